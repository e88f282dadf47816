"""The project report reads real rows and gives the engine's figures on them."""

from __future__ import annotations

import math

import numpy as np
import pytest
from django.contrib.auth.models import User

from annotator.agreement import (
    alpha_per_category,
    coder_stats,
    cohen_kappa,
    confusion_matrix,
    fleiss_kappa,
    gwet_ac2,
    krippendorff_alpha,
    pairwise_cohen_kappa,
)
from annotator.agreement.coded import encode
from annotator.agreement.interval_policy import METHOD
from annotator.agreement.intervals_by_method import alpha_intervals
from annotator.agreement_report import band, project_report, reading
from annotator.models import Annotation, Dimension
from annotator.ratings import annotation_arrays, label_arrays
from tests.factories import code_everything, make_coded_project, make_project

pytestmark = pytest.mark.django_db

TOPICS = ("arms", "trade", "other")
STANCES = ("hostile", "neutral", "friendly")


@pytest.fixture
def coded_project():
    project = make_project(
        documents=4,
        spans_per_document=5,
        coders=("c1", "c2", "c3"),
        coders_per_span=2,
        sample_share=0.6,
    )
    code_everything(project)
    return project


def _orm_ratings(project, key):
    """Ratings as (span, coder username, category key) straight from the ORM."""
    rows = []
    for annotation in Annotation.objects.for_project(project).select_related(
        "assignment__coder"
    ):
        for label in annotation.labels.select_related("dimension", "category"):
            if label.dimension.key == key:
                rows.append(
                    (
                        annotation.assignment.span_id,
                        annotation.assignment.coder.username,
                        label.category.key,
                    )
                )
    units, coders, values = zip(*rows, strict=True)
    return list(units), list(coders), list(values)


def test_label_arrays_are_the_stored_labels(coded_project):
    dimension = coded_project.codebook.dimensions.get(key="topic")
    data = label_arrays(coded_project, dimension)
    scale = [c.key for c in data.categories]
    got = sorted(
        (int(u), User.objects.get(pk=int(c)).username, scale[int(v)])
        for u, c, v in zip(data.unit, data.coder, data.value, strict=True)
    )
    assert got == sorted(zip(*_orm_ratings(coded_project, "topic"), strict=True))
    assert data.level == "nominal" and scale == list(TOPICS)
    annotations = annotation_arrays(coded_project)
    assert np.isfinite(annotations.seconds).all() and (annotations.seconds >= 10).all()
    assert set(annotations.document) == set(
        coded_project.corpus.documents.values_list("id", flat=True)
    )
    with_times = label_arrays(coded_project, dimension, annotations)
    np.testing.assert_array_equal(with_times.unit, data.unit)
    assert np.isfinite(with_times.time).all() and np.isnan(data.time).all()
    assert data.document is None and set(with_times.document) <= set(
        annotations.document
    )


def test_ordinal_scale_follows_category_values(coded_project):
    stance = coded_project.codebook.dimensions.get(key="stance")
    stance.categories.filter(key="hostile").update(value=5)
    data = label_arrays(coded_project, stance)
    assert [c.key for c in data.categories] == ["neutral", "friendly", "hostile"]


def test_report_equals_engine_on_the_same_ratings(coded_project):
    report = project_report(coded_project, n_resamples=200)
    by_key = {d.key: d for d in report.dimensions}
    assert list(by_key) == ["topic", "stance", "tags"]

    topic = by_key["topic"]
    units, coders, values = _orm_ratings(coded_project, "topic")
    alpha = krippendorff_alpha(units, coders, values, categories=TOPICS)
    assert topic.estimate.value == pytest.approx(alpha.value)
    assert topic.estimate.n_units == alpha.n_units > 0
    assert topic.estimate.excluded_units == alpha.excluded_units > 0
    assert topic.n_units_coded == 20 and topic.n_ratings == len(values)
    # The interval is alpha's policy method (interval_policy.METHOD).
    boot = alpha_intervals(
        encode(units, coders, values, categories=TOPICS), "nominal", n_resamples=200
    )[METHOD["krippendorff_alpha"]]
    assert (topic.alpha.ci_low, topic.alpha.ci_high) == pytest.approx(
        (boot.low, boot.high)
    )
    assert topic.interval_methods["krippendorff_alpha"] == boot.method
    fleiss = fleiss_kappa(units, coders, values, categories=TOPICS)
    assert topic.coefficients["fleiss_kappa"].value == pytest.approx(fleiss.value)
    assert "cohen_kappa" not in topic.coefficients  # three coders
    per_category = alpha_per_category(units, coders, values, categories=TOPICS)
    assert [r.value for _, _, r in topic.per_category] == pytest.approx(
        [r.value for r in per_category.values()], nan_ok=True
    )
    pairwise = pairwise_cohen_kappa(units, coders, values, categories=TOPICS)
    assert topic.pairwise.row_labels == pairwise.row_labels == ("c1", "c2", "c3")
    np.testing.assert_allclose(topic.pairwise.matrix, pairwise.matrix)
    stats = coder_stats(units, coders, values, categories=TOPICS)
    for row in topic.coders:
        assert row.stats.n_coded == stats[row.username].n_coded
        assert row.stats.alpha_without == pytest.approx(
            stats[row.username].alpha_without, nan_ok=True
        )
        assert 10 <= row.median_seconds <= 16
    confusion = confusion_matrix(units, coders, values, categories=TOPICS)
    np.testing.assert_array_equal(topic.confusion.matrix, confusion.matrix)
    assert topic.confusion.row_labels == ("Arms", "Trade", "Other")

    stance = by_key["stance"]
    assert stance.level == "ordinal" and stance.weights == "quadratic"
    units, coders, values = _orm_ratings(coded_project, "stance")
    assert stance.estimate.value == pytest.approx(
        krippendorff_alpha(
            units, coders, values, level="ordinal", categories=STANCES
        ).value
    )
    assert stance.coefficients["gwet_ac2"].value == pytest.approx(
        gwet_ac2(units, coders, values, categories=STANCES).value
    )


def test_multi_choice_dimension_is_set_valued_with_empty_sets(coded_project):
    tags = next(d for d in project_report(coded_project).dimensions if d.key == "tags")
    assert tags.level == "set" and tags.weights == "identity"
    # One rating per annotation, an empty choice included.
    assert tags.n_ratings == Annotation.objects.for_project(coded_project).count()
    per_annotation = {}
    for annotation in Annotation.objects.for_project(coded_project).select_related(
        "assignment__coder"
    ):
        keys = frozenset(
            annotation.labels.filter(dimension__key="tags").values_list(
                "category__key", flat=True
            )
        )
        a = annotation.assignment
        per_annotation[(a.span_id, a.coder.username)] = keys
    assert frozenset() in per_annotation.values()
    units, coders = zip(*per_annotation, strict=True)
    want = krippendorff_alpha(units, coders, list(per_annotation.values()), level="set")
    assert tags.estimate.value == pytest.approx(want.value)
    assert "(none)" in tags.confusion.row_labels
    assert [k for k, _, _ in tags.per_category] == ["quote", "number"]


def test_two_coders_get_cohen_kappa(db):
    project = make_project(documents=2, spans_per_document=4, coders=("c1", "c2"))
    code_everything(project, coders=("c1", "c2"))
    topic = project_report(project, n_resamples=50).dimensions[0]
    units, coders, values = _orm_ratings(project, "topic")
    assert topic.coefficients["cohen_kappa"].value == pytest.approx(
        cohen_kappa(units, coders, values, categories=TOPICS).value
    )


def test_over_time_by_week_and_by_batch(coded_project):
    dimension = coded_project.codebook.dimensions.get(key="topic")
    report = project_report(coded_project, dimensions=[dimension], n_resamples=10)
    weeks = report.dimensions[0].over_time
    assert weeks and all(row.label.startswith("week of ") for row in weeks)
    assert all(row.key.weekday() == 0 for row in weeks)  # Mondays
    assert sum(r.result.n_units for r in weeks) == report.dimensions[0].estimate.n_units
    batches = project_report(
        coded_project, dimensions=[dimension], over="batch", batch_size=5
    ).dimensions[0]
    assert [row.label for row in batches.over_time][:2] == ["units 1–5", "units 6–10"]
    assert len(batches.over_time) == 4  # 20 spans in batches of 5
    # A unit's two codings stay together even when made in different batches.
    assert sum(r.result.n_units for r in batches.over_time) == batches.estimate.n_units


def test_per_document_rows_name_the_documents(coded_project):
    topic = project_report(coded_project).dimensions[0]
    assert 1 <= topic.n_documents <= 4
    assert all(row.label.startswith("Document") for row in topic.documents)
    assert sum(r.result.n_units for r in topic.documents) == topic.estimate.n_units


def test_empty_project_reports_undefined_figures(db):
    project = make_project(documents=1, spans_per_document=2, coders=("c1",))
    report = project_report(project, n_resamples=10)
    topic = report.dimensions[0]
    assert math.isnan(topic.estimate.value) and topic.band == "none"
    assert topic.estimate.n_units == 0 and topic.n_ratings == 0
    data = report.to_dict()
    assert data["dimensions"][0]["alpha"]["value"] is None
    assert annotation_arrays(project).id.size == 0


def test_reading_and_band_against_thresholds():
    assert band(0.85) == "good" and band(0.7) == "tentative" and band(0.2) == "poor"
    assert band(0.800) == "good" and band(0.667) == "tentative"
    assert "reliable" in reading(0.9, 0.85, 0.95)
    assert "0.850 to 0.950" in reading(0.9, 0.85, 0.95)
    assert "tentative" in reading(0.7) and "not reliable" in reading(0.1)
    assert "Not enough" in reading(math.nan)


def test_report_as_json_is_strict(coded_project):
    import json

    data = project_report(coded_project, n_resamples=20).to_dict()
    text = json.dumps(data, allow_nan=False)
    topic = json.loads(text)["dimensions"][0]
    assert topic["n_units"] + topic["excluded_units"] == topic["n_units_coded"]
    assert set(topic["coefficients"]) >= {
        "krippendorff_alpha",
        "percent_agreement",
        "fleiss_kappa",
        "conger_kappa",
        "scott_pi",
        "gwet_ac1",
        "brennan_prediger",
    }


def test_dimensions_match_across_codebook_versions(coded_project):
    # A label made under an older version counts for the dimension with that key.
    old = coded_project.codebook
    dimension = Dimension.objects.get(codebook=old, key="topic")
    n = len(label_arrays(coded_project, dimension).unit)
    assert n == Annotation.objects.for_project(coded_project).count()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_reads_give_the_same_report_as_one_connection():
    # Outside a transaction on PostgreSQL the tables are read on several
    # connections at once; inside one, on this connection only.
    from django.db import connection, transaction

    project = make_coded_project(documents=3)
    assert not connection.in_atomic_block
    parallel = project_report(project, n_resamples=100).to_dict()
    with transaction.atomic():
        serial = project_report(project, n_resamples=100).to_dict()
    parallel.pop("generated_at"), serial.pop("generated_at")
    assert parallel == serial
    assert parallel["dimensions"][0]["n_ratings"] > 0


@pytest.mark.parametrize("spread", [1, 10_000])
def test_locate_finds_ids_with_dense_and_sparse_keys(spread):
    from annotator.ratings import locate

    rng = np.random.default_rng(spread)
    keys = rng.permutation(np.arange(500) * spread + 7)  # dense, or far apart
    ids = np.concatenate([keys[rng.integers(0, 500, 300)], [0, 6, 10**9]])
    found, at = locate(keys, ids)
    assert found.tolist() == [True] * 300 + [False] * 3
    np.testing.assert_array_equal(keys[at[found]], ids[found])
    empty_found, _ = locate(np.array([], dtype=np.int64), ids)
    assert not empty_found.any()


def test_another_project_on_the_same_codebook_is_not_counted(coded_project):
    before = project_report(coded_project, n_resamples=50).to_dict()
    other = make_project(documents=2, spans_per_document=3, coders=("c1", "c2"))
    assert other.codebook_id == coded_project.codebook_id  # shared: same content
    code_everything(other, coders=("c1", "c2"))
    after = project_report(coded_project, n_resamples=50).to_dict()
    before.pop("generated_at"), after.pop("generated_at")
    assert after == before
    theirs = project_report(other, n_resamples=50).dimensions[0]
    assert [row.username for row in theirs.coders] == ["c1", "c2"]
    assert theirs.n_ratings == other.total_codings


def test_intervals_for_alpha_and_the_unit_level_kappas(coded_project):
    topic = project_report(coded_project, n_resamples=300).dimensions[0]
    for name in (
        "krippendorff_alpha",
        "percent_agreement",
        "fleiss_kappa",
        "gwet_ac1",
        "brennan_prediger",
    ):
        low, high = topic.intervals[name]
        assert low <= topic.coefficients[name].value <= high, name
    assert "conger_kappa" not in topic.intervals
    data = topic.to_dict()["coefficients"]
    assert data["fleiss_kappa"]["ci_low"] == topic.intervals["fleiss_kappa"][0]
    assert data["scott_pi"]["ci_low"] is None


@pytest.mark.parametrize("n_coders", [3, 100])
def test_coder_medians_match_numpy(n_coders):
    from annotator.agreement_report import coder_medians
    from annotator.ratings import AnnotationArrays

    rng = np.random.default_rng(n_coders)
    n = 5_000
    coder = rng.integers(0, n_coders, n) * 7 + 1000
    seconds = rng.gamma(2.0, 9.0, n)
    seconds[rng.random(n) < 0.1] = np.nan  # unknown times are ignored
    empty = np.zeros(n)
    got = coder_medians(AnnotationArrays(empty, empty, coder, empty, seconds, None))
    for user in np.unique(coder):
        mine = seconds[(coder == user) & np.isfinite(seconds)]
        assert got[int(user)] == pytest.approx(np.median(mine))


def test_alpha_alone_reads_one_table_in_few_queries(
    coded_project, django_assert_num_queries
):
    # The scale (one query for every version's categories) and the ratings (one
    # read of the label table, filtered by project and dimension).
    dimension = coded_project.codebook.dimensions.get(key="topic")
    dimension.codebook  # noqa: B018 - loaded here, as a report's dimensions are
    with django_assert_num_queries(2):
        data = label_arrays(coded_project, dimension)
    assert len(data.unit) == Annotation.objects.for_project(coded_project).count()


def test_report_queries_do_not_grow_with_dimensions_or_ratings(
    coded_project, django_assert_num_queries
):
    # dimensions, 3 scales, labels + annotations + work items, usernames, titles
    with django_assert_num_queries(9):
        project_report(coded_project, n_resamples=20)


@pytest.mark.parametrize("lookup_limit", [10_000, 0])  # by id, or the whole project
def test_an_annotation_without_labels_still_counts(
    coded_project, lookup_limit, monkeypatch
):
    # Every dimension left blank: no label carries its span and coder, so they
    # are looked up; the multi-choice dimension counts it as an empty set.
    from annotator.agreement_report import coder_medians
    from annotator.models import Label
    from annotator.ratings import arrays

    monkeypatch.setattr(arrays, "OWNER_LOOKUP_LIMIT", lookup_limit)
    before = {d.key: d for d in project_report(coded_project).dimensions}
    blank = Annotation.objects.for_project(coded_project).order_by("pk").first()
    Label.objects.filter(annotation=blank).delete()
    annotations = annotation_arrays(coded_project)
    assert blank.pk in annotations.id.tolist()
    at = annotations.id.tolist().index(blank.pk)
    assert annotations.unit[at] == blank.assignment.span_id
    assert annotations.coder[at] == blank.assignment.coder_id
    coder = blank.assignment.coder_id
    seconds = Annotation.objects.for_project(coded_project).filter(
        assignment__coder_id=coder
    )
    assert coder_medians(annotations)[coder] == pytest.approx(
        np.median(list(seconds.values_list("seconds", flat=True)))
    )
    after = {d.key: d for d in project_report(coded_project).dimensions}
    assert after["tags"].n_ratings == before["tags"].n_ratings
    assert after["topic"].n_ratings == before["topic"].n_ratings - 1


def test_epoch_seconds_from_binary_timestamps():
    from annotator.ratings.columns import epoch_seconds

    info = np.iinfo(np.int64)
    raw = np.array([0, 1_500_000, -946_684_800_000_000, info.min, info.max])
    got = epoch_seconds(raw)
    assert got[:3].tolist() == [946_684_800.0, 946_684_801.5, 0.0]
    assert math.isnan(got[3]) and got[4] == math.inf


@pytest.mark.postgres
def test_times_read_equal_the_servers_epoch_seconds(coded_project):
    from django.db import connection

    from annotator.ratings import read_columns

    rows = Annotation.objects.filter(project=coded_project).order_by("id")
    (got,) = read_columns(rows.values_list("created_at"), ("time",))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT date_part('epoch', created_at) FROM annotator_annotation "
            "WHERE project_id = %s ORDER BY id",
            [coded_project.pk],
        )
        want = [row[0] for row in cursor.fetchall()]
    assert len(want) > 0 and got.tolist() == want  # to the last bit
