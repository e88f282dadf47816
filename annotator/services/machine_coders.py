"""Machine coders: train on the gold, validate like a coder, code what no human coded.

As background jobs, or synchronously (the train_coder and predict commands).

The maths (classifiers, out-of-fold validation) is ``annotator.machine``'s;
here are the project's data, the provenance and the writes. Every write is one
transaction: a failure stores nothing.
"""

from __future__ import annotations

import json
import math
import pickle
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from types import ModuleType

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from annotator.models import (
    Category,
    Job,
    JobKind,
    MachineCoder,
    MachineLabel,
    Project,
)
from annotator.services import machine_uncertainty
from annotator.services.jobs import request_job
from annotator.services.machine_gold import (
    TrainingSet,
    batches_of,
    gold_snapshot,
    training_sets,
    uncoded_spans,
)
from annotator.services.machine_validation import sample_ratings, validate_dimension

CLASSIFIER = "tfidf_linear"
K_FOLDS = 5
SEED = 0
PREDICT_BATCH = 2000  # spans read, predicted and written at a time
STEPS = 3  # a training's progress steps per dimension (train's comment)

Progress = Callable[[int, int | None, str], None]


class MachineCoderError(Exception):
    """Why a machine coder cannot be trained or used, in words naming the problem."""


def deployment_params() -> dict:
    """settings.MACHINE_CODER_PARAMS (JSON text from the environment) as a dict;
    MachineCoderError says what is wrong with it."""
    try:
        params = json.loads(settings.MACHINE_CODER_PARAMS)
    except json.JSONDecodeError as error:
        raise MachineCoderError(f"MACHINE_CODER_PARAMS is no JSON: {error}.") from None
    if not isinstance(params, dict):
        raise MachineCoderError("MACHINE_CODER_PARAMS must be a JSON object.")
    return params


def _no_progress(done: int, total: int | None, words: str) -> None:
    return None


def _classifiers() -> ModuleType:
    """annotator.machine.classifier, imported when first needed: scikit-learn
    takes a second to load, which only the worker that trains or codes pays."""
    from annotator.machine import classifier

    return classifier


# --- training ---------------------------------------------------------------------


def _factory(data: TrainingSet, name: str, params: dict) -> Callable[[], object]:
    """A new unfitted classifier for the dimension: multi-choice ones predict
    sets (one yes/no classifier per category). Partials, not lambdas: the
    multi-label model keeps its factory, and a stored model must pickle."""
    classifiers = _classifiers()
    single = partial(classifiers.make_classifier, name, **params)
    if data.dimension.multiple:
        return partial(classifiers.MultiLabel, single)
    return single


def _problems(sets: dict[str, TrainingSet], k: int) -> list[str]:
    """Why these training sets cannot be trained on, in words; [] when they can."""
    if not any(len(data) for data in sets.values()):
        return [
            "The project has no gold labels of its codebook version to train on "
            "(reference and hidden-check spans never count): code and adjudicate "
            "some spans, refresh the gold, then train."
        ]
    problems = []
    for key, data in sets.items():
        if not len(data):
            continue  # left out, and said so in the provenance
        if not data.dimension.multiple and len(set(data.labels)) < 2:
            problems.append(
                f"Dimension {key!r}: every one of its {len(data)} gold labels is "
                f"{data.labels[0]!r}; a classifier needs at least two categories."
            )
        documents = len(set(data.documents))
        if documents < k:
            problems.append(
                f"Dimension {key!r}: its gold comes from {documents} document(s); "
                f"the {k}-fold validation, which never scores a span of a document "
                f"it trained on, needs at least {k}."
            )
    return problems


def train(
    project: Project,
    *,
    by=None,
    progress: Progress = _no_progress,
    name: str = CLASSIFIER,
    params: dict | None = None,
    k: int = K_FOLDS,
    seed: int = SEED,
) -> MachineCoder:
    """Validate a classifier per dimension out of fold over the gold, fit it on
    all of it, and store the coder as the project's current one. Dimensions
    without gold are left out (named in the provenance). MachineCoderError names
    what stops it; nothing is written then."""
    # The deployment's choice (settings.MACHINE_CODER_PARAMS), then the caller's.
    params = {**deployment_params(), **(params or {})}
    classifiers = _classifiers()
    sets = training_sets(project)
    problems = _problems(sets, k)
    if problems:
        raise MachineCoderError(" ".join(problems))
    trained = {key: data for key, data in sets.items() if len(data)}
    sample = sample_ratings(project, trained)
    # Three steps a dimension: out of fold (vs gold and vs the coders), the
    # learning curve, the final fit.
    total = STEPS * len(trained)
    fitted: dict[str, bytes] = {}
    report: dict[str, dict] = {}
    used_params: dict[str, dict] = {}
    for step, (key, data) in enumerate(trained.items()):
        make = _factory(data, name, params)
        done = STEPS * step
        progress(done, total, f"validating {key!r} out of fold")
        report[key] = validate_dimension(
            data, make, sample[key], k=k, seed=seed,
            progress=lambda words, d=done, key=key: progress(
                d + 1, total, f"{words} of {key!r}"
            ),
        )  # fmt: skip
        progress(done + 2, total, f"fitting {key!r} on all {len(data)} spans")
        model = make()
        model.fit(data.texts, data.labels)
        used_params[key] = model.params()
        fitted[key] = classifiers.dumps(model)
    # Each dimension's bytes as classifiers.dumps made them (compressed there).
    blob = pickle.dumps(fitted, protocol=pickle.HIGHEST_PROTOCOL)
    codebook = project.codebook
    provenance = {
        "gold": gold_snapshot(project, trained),
        "codebook": {
            "id": codebook.pk,
            "family": codebook.family,
            "version": codebook.version,
        },
        "classifier": {"name": name, "params": used_params},
        "libraries": classifiers.library_versions(),
        "date": datetime.now(UTC).isoformat(),
        "k": k,
        "seed": seed,
        "folds_grouped_by": "document",
        "dimensions": sorted(trained),
        "left_out": sorted(set(sets) - set(trained)),  # no gold
    }
    with transaction.atomic():
        MachineCoder.objects.filter(
            project=project, state=MachineCoder.State.READY
        ).update(state=MachineCoder.State.SUPERSEDED)
        coder = MachineCoder.objects.create(
            project=project,
            codebook=codebook,
            created_by=by if by is not None and by.is_authenticated else None,
            provenance=provenance,
            validation=report,
            model=blob,
            model_size=len(blob),
            n_train=provenance["gold"]["n_spans"],
        )
    progress(total, total, "trained")
    return coder


def summary(coder: MachineCoder) -> dict:
    """Per dimension what the CLI and the API print first: α against the gold
    with its interval, macro F1, and the number of spans trained on."""
    return {
        "dimensions": {
            key: {
                "alpha_vs_gold": figures.get("alpha_vs_gold"),
                "interval": figures.get("interval"),
                "f1_macro": figures.get("f1_macro"),
                "n_train": figures.get("n_train"),
            }
            for key, figures in coder.validation.items()
        }
    }


# --- coding the rest ----------------------------------------------------------------


def usable_coder(project: Project) -> MachineCoder:
    """The project's current coder, if it was trained on the project's
    codebook version; MachineCoderError says what to do otherwise."""
    coder = MachineCoder.objects.current_of(project)
    if coder is None:
        raise MachineCoderError(
            "The project has no trained machine coder: train one first."
        )
    if coder.codebook_id != project.codebook_id:
        raise MachineCoderError(
            f"The machine coder {coder.pk} was trained on another codebook version "
            "than the project's now: train it again."
        )
    return coder


def _set_probability(row, classes: list[str], chosen: set[str]) -> float:
    """The probability of a multi-choice set: each category in it or out."""
    p = 1.0
    for key, value in zip(classes, row, strict=True):
        p *= float(value) if key in chosen else 1.0 - float(value)
    return min(1.0, max(0.0, p))


def _labels_of(
    coder: MachineCoder, model, dimension, categories: dict, batch, now
) -> tuple[list[MachineLabel], object]:
    """One batch's machine labels on one dimension, and the machine's
    uncertainty about each span on it (annotator.machine.uncertainty)."""
    from annotator.machine import uncertainty

    texts = [text for _, text in batch]
    proba = model.predict_proba(texts)
    unsure = (
        uncertainty.multi_choice(proba)
        if dimension.multiple
        else uncertainty.single_choice(proba)
    )
    classes = list(model.classes)
    base = {
        "project_id": coder.project_id,
        "dimension_id": dimension.pk,
        "machine_coder": coder,
        "created_at": now,
    }
    labels = []
    if dimension.multiple:
        sets = model.predict_sets(texts)
        for (span_id, _), row, chosen in zip(batch, proba, sets, strict=True):
            labels.append(
                MachineLabel(
                    span_id=span_id,
                    categories=sorted(chosen),
                    probability=_set_probability(row, classes, set(chosen)),
                    **base,
                )
            )
        return labels, unsure
    for (span_id, _), row in zip(batch, proba, strict=True):
        best = max(range(len(classes)), key=lambda i: row[i])
        p = float(row[best])
        labels.append(
            MachineLabel(
                span_id=span_id,
                category_id=categories[classes[best]],
                probability=min(1.0, max(0.0, p if not math.isnan(p) else 0.0)),
                **base,
            )
        )
    return labels, unsure


def predict_rest(
    project: Project,
    *,
    by=None,
    progress: Progress = _no_progress,
    batch_size: int = PREDICT_BATCH,
) -> int:
    """Code every span no human coded with the current machine coder, replacing
    the project's earlier machine codes; returns the number of spans coded.

    Also writes each coded span's uncertainty to its work item (active
    learning serves the single-coded remainder by it) and clears it from spans
    no longer coded, in the same transaction."""
    from annotator.machine import uncertainty

    coder = usable_coder(project)
    classifiers = _classifiers()
    fitted = pickle.loads(bytes(coder.model))  # noqa: S301 - our own column
    models = {key: classifiers.loads(blob) for key, blob in fitted.items()}
    dimensions = [
        d
        for d in project.codebook.dimensions.order_by("position", "id")
        if d.key in models
    ]
    categories = {
        d.pk: dict(Category.objects.filter(dimension=d).values_list("key", "pk"))
        for d in dimensions
    }
    spans = uncoded_spans(project)
    total = spans.count()
    done = 0
    now = timezone.now()
    with transaction.atomic():
        MachineLabel.objects.filter(project=project).delete()
        for batch in batches_of(spans, batch_size):
            rows, unsure = [], []
            for dimension in dimensions:
                labels, on_dimension = _labels_of(
                    coder,
                    models[dimension.key],
                    dimension,
                    categories[dimension.pk],
                    batch,
                    now,
                )
                rows += labels
                unsure.append(on_dimension)
            MachineLabel.objects.bulk_create(rows)
            most = uncertainty.of_spans(unsure, len(batch))
            machine_uncertainty.write(
                project.pk,
                [(span, float(u)) for (span, _), u in zip(batch, most, strict=True)],
            )
            done += len(batch)
            progress(done, total, f"{done:,} of {total:,} spans coded")
        machine_uncertainty.clear_stale(project.pk)
    return done


# --- as background jobs -------------------------------------------------------------


def request_training(project: Project, *, by=None) -> Job:
    return request_job(JobKind.MACHINE_TRAIN, project=project, by=by)


def request_prediction(project: Project, *, by=None) -> Job:
    return request_job(JobKind.MACHINE_PREDICT, project=project, by=by)


def run_training_job(job: Job, progress: Progress) -> str:
    coder = train(job.project, by=job.requested_by, progress=progress)
    job.result = {"machine_coder": coder.pk}
    return f"machine coder {coder.pk} trained on {coder.n_train:,} gold spans"


def run_prediction_job(job: Job, progress: Progress) -> str:
    n = predict_rest(job.project, by=job.requested_by, progress=progress)
    coder = MachineCoder.objects.current_of(job.project)
    job.result = {"machine_coder": coder.pk if coder else None, "spans": n}
    return f"{n:,} spans no human coded were machine-coded"
