"""The reviewers' view of each coder: practice, tests, checks over time, confusions.

``coder_reports(project)`` reads everything the coders page, a coder's page and
the API show, in a fixed number of queries however many coders: memberships,
attempts, practice answers and scored check answers once each (checks are
scored first: training.checks.score_pending), and, when asked, Dawid–Skene's
confusion matrices: from the latest gold runs (gold.aggregate keeps them when
the ``model`` rule ran) or, for a project of at most
``CODERS_DS_IN_REQUEST_MAX_RATINGS`` ratings, fitted here on read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import OuterRef, Subquery

from annotator import gold_maths
from annotator.gold.aggregate import confusion_of
from annotator.models import (
    Dimension,
    GoldRun,
    Label,
    Membership,
    Project,
    TrainingAnswer,
    TrainingAttempt,
)
from annotator.ratings import read_project
from annotator.services.labels import codebook_dimensions
from annotator.training import checks
from annotator.training.chart import Chart, chart

CODERS_DS_IN_REQUEST_MAX_RATINGS = getattr(
    settings, "CODERS_DS_IN_REQUEST_MAX_RATINGS", 200_000
)
TOP_CONFUSIONS = 3
# Dawid–Skene cells below this probability are smoothing, not confusion.
MIN_DS_CONFUSION = 0.01


@dataclass(frozen=True)
class Matrix:
    """One dimension's confusion: rows the truth (the reference, or the model's
    true class), columns what the coder said; counts (checks) or P(said | truth)."""

    dimension: str
    label: str
    categories: list[str]
    rows: list[list[float]]


@dataclass(frozen=True)
class Confusion:
    """An off-diagonal cell: ``truth`` coded as ``said``, ``value`` times (checks)
    or with that probability (Dawid–Skene)."""

    source: str  # "checks" or "dawid_skene"
    dimension: str
    truth: str
    said: str
    value: float


@dataclass(frozen=True)
class Model:
    """Where the Dawid–Skene matrices came from: ``gold`` (the latest gold runs,
    made at ``as_of``), ``fitted`` (here, on read), ``too_large`` (neither: add
    the model rule) or ``none`` (no single-choice ratings to fit)."""

    source: str
    as_of: datetime | None = None
    by_coder: dict[int, list[Matrix]] = field(default_factory=dict)


@dataclass
class CoderReport:
    coder: int
    username: str
    member: bool
    certified_at: datetime | None = None
    practice: dict = field(default_factory=dict)
    attempts: list[dict] = field(default_factory=list)
    answers: list[checks.Answer] = field(default_factory=list)
    points: list[checks.Point] = field(default_factory=list)
    alerts: list[checks.CheckAlert] = field(default_factory=list)
    checks: dict = field(default_factory=dict)
    check_confusion: list[Matrix] = field(default_factory=list)
    dawid_skene: list[Matrix] = field(default_factory=list)
    confusions: list[Confusion] = field(default_factory=list)
    chart: Chart | None = None

    @property
    def pk(self) -> int:
        """The coder's user id (templates name users by pk)."""
        return self.coder

    def get_username(self) -> str:
        """As a user's (the certify form names the coder so)."""
        return self.username

    @property
    def last_test(self) -> dict | None:
        """The newest test or manual decision (attempts are newest first)."""
        return self.attempts[0] if self.attempts else None


@dataclass(frozen=True)
class Overview:
    reports: list[CoderReport]
    alerts: list[checks.CheckAlert]
    model: Model | None
    window: int
    threshold: float


def _dimensions(project: Project) -> dict[str, Dimension]:
    return codebook_dimensions(project.codebook_id)


def _attempts(project: Project, coder: int | None) -> dict[int, list[dict]]:
    rows = TrainingAttempt.objects.filter(project=project).exclude(
        kind=TrainingAttempt.Kind.PRACTICE
    )
    if coder is not None:
        rows = rows.filter(coder_id=coder)
    found: dict[int, list[dict]] = {}
    for a in rows.order_by("-started_at", "-pk").values(
        "pk", "coder_id", "kind", "started_at", "finished_at", "passed", "results",
        "note",
    ):  # fmt: skip
        a["id"] = a.pop("pk")
        found.setdefault(a.pop("coder_id"), []).append(a)
    return found


def _practice(project: Project, coder: int | None) -> dict[int, dict]:
    """{coder: {rounds, answered, matched {dimension: share}}} of practice."""
    rows = TrainingAnswer.objects.filter(
        attempt__project=project,
        attempt__kind=TrainingAttempt.Kind.PRACTICE,
        answered_at__isnull=False,
    )
    if coder is not None:
        rows = rows.filter(attempt__coder_id=coder)
    tally: dict[int, dict] = {}
    for who, attempt, matched in rows.values_list(
        "attempt__coder_id", "attempt_id", "matched"
    ):
        t = tally.setdefault(who, {"rounds": set(), "answered": 0, "hits": {}})
        t["rounds"].add(attempt)
        t["answered"] += 1
        for key, hit in (matched or {}).items():
            t["hits"].setdefault(key, []).append(bool(hit))
    return {
        who: {
            "rounds": len(t["rounds"]),
            "answered": t["answered"],
            "matched": {k: round(sum(v) / len(v), 4) for k, v in t["hits"].items()},
        }
        for who, t in tally.items()
    }


def _check_summary(answers, points, alerts, order) -> dict:
    dims = checks.dimensions_of(answers, order)
    accuracy = {}
    for key in dims:
        scored = [a.matched[key] for a in answers if key in a.matched]
        accuracy[key] = round(sum(scored) / len(scored), 4)
    last = points[-1] if points else None
    return {
        "n": len(answers),
        "accuracy": accuracy,
        "all_right": round(sum(a.correct for a in answers) / len(answers), 4)
        if answers
        else None,
        "rolling": {k: round(v, 4) for k, v in last.accuracy.items()} if last else {},
        "window": last.window if last else 0,
        "alert": bool(alerts),
    }


def _single(dimensions: dict[str, Dimension]) -> list[Dimension]:
    return [d for d in dimensions.values() if not d.multiple]


def _check_confusion(answers, dimensions: dict[str, Dimension]) -> list[Matrix]:
    """Reference × coder counts on checks, per single-choice dimension."""
    matrices = []
    for d in _single(dimensions):
        pairs = [
            (a.reference[d.key][0], a.labels[d.key][0])
            for a in answers
            if len(a.reference.get(d.key) or ()) == 1
            and len(a.labels.get(d.key) or ()) == 1
        ]
        if not pairs:
            continue
        keys = list(d.category_map)
        keys += sorted({k for pair in pairs for k in pair} - set(keys))
        at = {k: i for i, k in enumerate(keys)}
        rows = [[0] * len(keys) for _ in keys]
        for truth, said in pairs:
            rows[at[truth]][at[said]] += 1
        matrices.append(Matrix(d.key, d.label, keys, rows))
    return matrices


def top_confusions(source: str, matrices: list[Matrix], floor: float = 0.0):
    """The largest off-diagonal cells (above ``floor``), at most TOP_CONFUSIONS."""
    cells = [
        Confusion(source, m.dimension, m.categories[i], m.categories[j], value)
        for m in matrices
        for i, row in enumerate(m.rows)
        for j, value in enumerate(row)
        if i != j and value > floor
    ]
    cells.sort(key=lambda c: (-c.value, c.dimension, c.truth, c.said))
    return cells[:TOP_CONFUSIONS]


def _from_gold(project: Project, dimensions: dict[str, Dimension]) -> Model | None:
    """The latest gold run of each single-choice dimension, if any kept the
    model's confusion matrices (one query)."""
    ids = [d.pk for d in _single(dimensions)]
    latest = Subquery(
        GoldRun.objects.filter(project=project, dimension=OuterRef("pk"))
        .order_by("-created_at", "-id")
        .values("pk")[:1]
    )
    runs = list(
        GoldRun.objects.filter(
            pk__in=Dimension.objects.filter(pk__in=ids).values(last=latest)
        ).values_list("dimension_id", "created_at", "coder_confusion")
    )
    runs = [run for run in runs if run[2]]
    if not runs:
        return None
    label = {d.pk: d for d in dimensions.values()}
    by_coder: dict[int, list[Matrix]] = {}
    for dimension_id, _, confusion in sorted(runs, key=lambda r: label[r[0]].position):
        d = label[dimension_id]
        for coder, m in confusion.items():
            matrix = Matrix(d.key, d.label, m["categories"], m["matrix"])
            by_coder.setdefault(int(coder), []).append(matrix)
    return Model("gold", max(run[1] for run in runs), by_coder)


def _fitted(project: Project, dimensions: dict[str, Dimension]) -> Model:
    """Fit Dawid–Skene on read, for a project small enough."""
    single = _single(dimensions)
    if not single:
        return Model("none")
    if Label.objects.filter(project=project).count() > (
        CODERS_DS_IN_REQUEST_MAX_RATINGS
    ):
        return Model("too_large")
    loaded = list(
        Dimension.objects.filter(pk__in=[d.pk for d in single])
        .select_related("codebook")
        .order_by("position", "pk")
    )
    _, ratings = read_project(project, loaded, documents=False, times=False)
    by_coder: dict[int, list[Matrix]] = {}
    for d, r in zip(loaded, ratings, strict=True):
        if not len(r.unit):
            continue
        keys = [c.key for c in r.categories]
        fit = gold_maths.dawid_skene(r.unit, r.coder, r.value, len(keys))
        for coder, m in confusion_of(fit, keys).items():
            by_coder.setdefault(int(coder), []).append(
                Matrix(d.key, d.label, m["categories"], m["matrix"])
            )
    return Model("fitted" if by_coder else "none", None, by_coder)


def dawid_skene_model(project: Project) -> Model:
    """Every coder's Dawid–Skene confusion matrices (see Model)."""
    dimensions = _dimensions(project)
    return _from_gold(project, dimensions) or _fitted(project, dimensions)


def _coders(project: Project, coder: int | None, others: set[int]) -> list[tuple]:
    """(id, username, member, certified_at) of the project's coders, and of
    anyone else with training or check data (former coders)."""
    rows = Membership.objects.filter(project=project, role=Membership.Role.CODER)
    if coder is not None:
        rows = rows.filter(user_id=coder)
    found = [
        (pk, name, True, at)
        for pk, name, at in rows.values_list(
            "user_id", "user__username", "certified_at"
        )
    ]
    missing = others - {row[0] for row in found}
    if missing:
        found += [
            (pk, name, False, None)
            for pk, name in get_user_model()
            .objects.filter(pk__in=missing)
            .values_list("pk", "username")
        ]
    return sorted(found, key=lambda row: row[1])


def coder_reports(
    project: Project,
    *,
    coder: int | None = None,
    dawid_skene: bool = False,
    charts: bool = False,
) -> Overview:
    """Each coder's report (or only ``coder``'s), their check alerts, and, when
    ``dawid_skene``, the model's matrices and both matrices' top confusions."""
    checks.score_pending(project)
    answers = checks.read_answers(project, coder)
    attempts = _attempts(project, coder)
    practice = _practice(project, coder)
    dimensions = _dimensions(project)
    model = dawid_skene_model(project) if dawid_skene else None
    others = {a.coder for a in answers} | set(attempts) | set(practice)
    reports, every_alert = [], []
    order = list(dimensions)
    for pk, name, member, certified_at in _coders(project, coder, others):
        mine = [a for a in answers if a.coder == pk]
        points = checks.rolling(
            mine, project.check_window, checks.dimensions_of(mine, order)
        )
        alerts = checks.coder_alerts(project, pk, name, points)
        every_alert += alerts
        report = CoderReport(
            pk, name, member, certified_at,
            practice.get(pk, {"rounds": 0, "answered": 0, "matched": {}}),
            attempts.get(pk, []), mine, points, alerts,
            _check_summary(mine, points, alerts, order),
            _check_confusion(mine, dimensions),
        )  # fmt: skip
        if model is not None:
            report.dawid_skene = model.by_coder.get(pk, [])
            report.confusions = top_confusions(
                "checks", report.check_confusion
            ) + top_confusions("dawid_skene", report.dawid_skene, MIN_DS_CONFUSION)
        if charts:
            report.chart = chart(
                points, project.check_min_accuracy, checks.dimensions_of(mine, order)
            )
        reports.append(report)
    return Overview(
        reports, every_alert, model, project.check_window, project.check_min_accuracy
    )
