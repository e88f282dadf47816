"""`manage.py agreement`: CSV mode against published values, project mode, errors."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from annotator.agreement.interval_policy import NAME
from annotator.agreement_report import project_report
from annotator.ratings import read_project
from tests.annotator.agreement import published as pub
from tests.factories import make_coded_project

ROOT = Path(__file__).resolve().parents[2]
KEYS = {
    "krippendorff_alpha",
    "percent_agreement",
    "fleiss_kappa",
    "conger_kappa",
    "scott_pi",
    "brennan_prediger",
}
INTERVAL_KEYS = (
    "intervals",
    "interval_methods",
    "interval_notes",
    "resampling",
    "resamples",
    "seed",
    "confidence",
)


def write_csv(path: Path, units, coders, values, header="unit,coder,value") -> Path:
    lines = [header] + [
        f"{u},{c},{v}" for u, c, v in zip(units, coders, values, strict=True)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run_json(*args: str) -> dict:
    out = StringIO()
    call_command("agreement", *args, "--json", stdout=out)
    text = out.getvalue()
    assert text.count("\n") <= 1  # one JSON object
    return json.loads(text)


@pytest.fixture
def k2011(tmp_path):
    return write_csv(tmp_path / "k2011.csv", *pub.wide_to_long(pub.KRIPPENDORFF_2011))


@pytest.mark.parametrize(
    ("level", "alpha"),
    [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)],
)
def test_csv_alpha_matches_krippendorff_2011(k2011, level, alpha):
    data = run_json("--csv", str(k2011), "--level", level)
    assert set(data) == {"n_units", "n_coders", "n_pairable", "coefficients"} | {
        *INTERVAL_KEYS
    }
    assert (data["n_units"], data["n_coders"], data["n_pairable"]) == (11, 4, 40)
    assert set(data["coefficients"]) == KEYS | {"gwet_ac1"}  # four coders: no Cohen
    assert round(data["coefficients"]["krippendorff_alpha"], 3) == alpha


@pytest.mark.parametrize(
    ("weights", "cohen", "scott", "gwet"),
    [("identity", 0.432, 0.430, 0.456), ("quadratic", 0.383, 0.382, 0.299)],
)
def test_csv_two_coders_weights_match_gwet_2014(tmp_path, weights, cohen, scott, gwet):
    path = write_csv(
        tmp_path / "diagnosis.csv", *pub.table_to_long(pub.CONT4X4_DIAGNOSIS)
    )
    data = run_json("--csv", str(path), "--level", "ordinal", "--weights", weights)
    coefficients = data["coefficients"]
    gwet_key = "gwet_ac1" if weights == "identity" else "gwet_ac2"
    assert set(coefficients) == KEYS | {gwet_key, "cohen_kappa"}
    assert round(coefficients["cohen_kappa"], 3) == cohen
    assert round(coefficients["scott_pi"], 3) == scott
    assert round(coefficients[gwet_key], 3) == gwet


def test_csv_categories_fix_the_scale_and_interval_uses_positions(tmp_path):
    # Labels, not numbers: with a declared order, interval alpha uses positions
    # 1..5, which here equal the published numbers.
    names = ["very low", "low", "mid", "high", "very high"]
    units, coders, values = pub.wide_to_long(pub.KRIPPENDORFF_2011)
    path = write_csv(
        tmp_path / "named.csv", units, coders, [names[v - 1] for v in values]
    )
    data = run_json(
        "--csv", str(path), "--level", "interval", "--categories", ",".join(names)
    )
    assert round(data["coefficients"]["krippendorff_alpha"], 3) == 0.849
    # An unused declared category changes q, hence Brennan-Prediger.
    five = run_json(
        "--csv", str(path), "--level", "nominal", "--categories", ",".join(names)
    )
    six = run_json(
        "--csv", str(path), "--level", "nominal",
        "--categories", ",".join([*names, "unused"]),
    )  # fmt: skip
    assert (
        six["coefficients"]["brennan_prediger"]
        > five["coefficients"]["brennan_prediger"]
    )


def test_csv_numbers_sort_numerically(tmp_path):
    units, coders, values = pub.wide_to_long(pub.KRIPPENDORFF_2011)
    scaled = [str(v * 10 if v > 2 else v) for v in values]  # 1, 2, 30, 40, 50
    path = write_csv(tmp_path / "numbers.csv", units, coders, scaled)
    ordinal = run_json("--csv", str(path), "--level", "ordinal")
    assert round(ordinal["coefficients"]["krippendorff_alpha"], 3) == 0.815


def test_csv_set_level(tmp_path):
    path = write_csv(
        tmp_path / "sets.csv",
        [1, 1, 2, 2, 3, 3],
        ["a", "b"] * 3,
        ["x|y", "y|x", "x", "x", "y", "x|y"],
    )
    data = run_json("--csv", str(path), "--level", "set")
    assert data["n_units"] == 3 and data["n_pairable"] == 6
    assert "cohen_kappa" in data["coefficients"]
    assert 0 < data["coefficients"]["percent_agreement"] < 1


def test_undefined_coefficient_is_null(tmp_path):
    path = write_csv(tmp_path / "same.csv", [1, 1, 2, 2], ["a", "b"] * 2, ["x"] * 4)
    data = run_json("--csv", str(path), "--level", "nominal")
    assert data["coefficients"]["krippendorff_alpha"] is None


@pytest.mark.parametrize(
    ("content", "extra", "message"),
    [
        ("unit,coder\n1,a\n", (), "line 1: header is missing column(s) 'value'"),
        ("unit,coder,value\n1,a,x\n1,b\n", (), "line 3: expected 3 fields, got 2"),
        ("unit,coder,value\n1,a,x\n1,b,\n", (), "line 3: field 'value' is empty"),
        ("unit,coder,value\n1,a,x\n1,a,y\n", (), "lines 2 and 3: coder 'a' rated"),
        (
            "unit,coder,value\n1,a,x\n1,b,z\n",
            ("--categories", "x,y"),
            "line 3: value 'z' is not one of the categories x,y",
        ),
        ("", (), "file is empty"),
    ],
)
def test_bad_csv_names_the_line(tmp_path, content, extra, message):
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CommandError) as caught:
        call_command("agreement", "--csv", str(path), "--level", "nominal", *extra)
    assert message in str(caught.value) and str(path) in str(caught.value)
    assert caught.value.returncode == 2


def test_set_with_weights_and_missing_level_are_errors(k2011):
    with pytest.raises(CommandError, match="use weights='identity'") as caught:
        call_command(
            "agreement", "--csv", str(k2011), "--level", "set", "--weights", "linear"
        )
    assert caught.value.returncode == 2
    with pytest.raises(CommandError, match="--csv needs --level"):
        call_command("agreement", "--csv", str(k2011))


def _manage(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "annotator.settings"}
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "agreement", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )


def test_end_to_end_exit_status_and_json(k2011, tmp_path):
    done = _manage("--csv", str(k2011), "--level", "ordinal", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert list(data) == [
        "n_units",
        "n_coders",
        "n_pairable",
        "coefficients",
        *INTERVAL_KEYS,
    ]
    assert list(data["coefficients"]) == [
        "krippendorff_alpha",
        "percent_agreement",
        "fleiss_kappa",
        "conger_kappa",
        "scott_pi",
        "gwet_ac1",
        "brennan_prediger",
    ]
    bad = tmp_path / "bad.csv"
    bad.write_text("unit,coder,value\n1,a,1\n2,b\n", encoding="utf-8")
    failed = _manage("--csv", str(bad), "--level", "nominal", "--json")
    assert failed.returncode == 2
    assert "line 3: expected 3 fields, got 2" in failed.stderr
    assert failed.stdout == ""


@pytest.mark.django_db
def test_project_table_and_json():
    project = make_coded_project(documents=2)
    out = StringIO()
    call_command(
        "agreement", "--project", str(project.pk), "--resamples", "200", stdout=out
    )
    text = out.getvalue()
    report = project_report(project, n_resamples=200)
    for d in report.dimensions:
        assert f"{d.label} [{d.key}, {d.level}]" in text
        assert d.reading in text
        assert f"{d.estimate.excluded_units} single-coded units excluded" in text
    assert "c1" in text and "α without" in text
    data = run_json("--project", str(project.pk))
    assert [d["key"] for d in data["dimensions"]] == ["topic", "stance", "tags"]
    with pytest.raises(CommandError, match="no project with id 0"):
        call_command("agreement", "--project", "0")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("key", "weights"), [("topic", "identity"), ("stance", "quadratic")]
)
def test_csv_intervals_equal_the_reports_for_the_same_ratings_and_seed(
    tmp_path, key, weights
):
    project = make_coded_project(documents=6)
    dimension = project.codebook.dimensions.get(key=key)
    data = read_project(project, [dimension], version_only=True)[1][0]
    scale = [c.key for c in data.categories]
    # Zero-padded ids sort as the report's integers do: the same encode order,
    # hence the same resamples.
    path = write_csv(
        tmp_path / f"{key}.csv",
        [f"{u:09d}" for u in data.unit],
        [f"{c:09d}" for c in data.coder],
        [scale[v] for v in data.value],
    )
    got = run_json(
        "--csv", str(path), "--level", data.level, "--weights", weights,
        "--categories", ",".join(scale), "--seed", "7", "--resamples", "300",
    )  # fmt: skip
    d = next(
        r
        for r in project_report(project, n_resamples=300, seed=7).dimensions
        if r.key == key
    )
    assert got["resamples"] == 300 and got["seed"] == 7 and got["confidence"] == 0.95
    assert got["resampling"] == "units with 2+ ratings; single-coded units drawn apart"
    assert got["interval_methods"] == d.interval_methods
    assert got["interval_notes"] == d.interval_notes
    assert set(got["intervals"]) == set(d.intervals)
    for name, (low, high) in d.intervals.items():
        want = None if math.isnan(low) else [low, high]
        assert got["intervals"][name] == want, name  # exactly, not approximately
    assert any(v is not None for v in got["intervals"].values())


def test_csv_table_shows_each_interval_and_its_method(k2011):
    out = StringIO()
    call_command(
        "agreement", "--csv", str(k2011), "--level", "nominal", "--seed", "3",
        stdout=out,
    )  # fmt: skip
    text = out.getvalue()
    data = run_json("--csv", str(k2011), "--level", "nominal", "--seed", "3")
    assert "95% interval (1,000 resamples, seed 3)" in text
    for name, interval in data["intervals"].items():
        line = next(x for x in text.splitlines() if x.strip().startswith(name + " "))
        if interval is None:
            assert f"withheld: {data['interval_notes'][name]}" in line
        else:
            method = NAME[data["interval_methods"][name]]
            assert f"{interval[0]:.3f} – {interval[1]:.3f} ({method})" in line
