"""The replication bundle: the report's ratings, codebook, figures and a script.

``write_bundle(report, file)`` writes README.txt, ``ratings/<dimension>.csv``
(unit,coder,value: span id, coder number 1..k in user-id order, category key;
a set's keys joined by ``|``), codebook.yaml, expected.json (every figure of
the report with its interval method, seed, resamples and confidence),
requirements.txt and replicate.py, which re-computes every figure with the
``krippendorff`` and ``irrCAC`` packages in a clean virtualenv. Coder names
never enter the zip. See docs/design/reliability-report.md §6.
"""

from __future__ import annotations

import csv
import io
import json
import math
import zipfile
from pathlib import Path
from typing import IO, Any

import numpy as np

from annotator.codebooks import dump_codebook
from annotator.ratings import read_project

from .reliability import ReliabilityReport

REQUIREMENTS = (
    "krippendorff==0.9.0",
    "irrCAC==0.4.4",
    "scipy==1.12.0",
    "numpy==1.26.4",
    "pandas==2.2.3",
)
TEMPLATE = Path(__file__).with_name("replicate_template.py.txt")
ESTIMATE_TOLERANCE = 5e-7
INTERVAL_TOLERANCE = 0.015  # at 1,000 resamples; replicate.py widens it by MC error
RESAMPLING = "units with 2+ ratings; single-coded units drawn apart"


def _number(x: Any) -> float | None:
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def ratings_tables(report: ReliabilityReport) -> dict[str, list[tuple[int, int, str]]]:
    """Per dimension key, its (span id, coder number, value) rows, sorted.

    Coders are numbered 1..k over the whole project in user-id order, so each
    dimension's coders sort as the engine encodes them (by user id)."""
    dimensions = list(report.codebook.dimensions.all())
    _, ratings = read_project(
        report.project, dimensions, documents=False, times=False, version_only=True
    )
    users = sorted({int(u) for data in ratings for u in np.unique(data.coder)})
    number = {user: i for i, user in enumerate(users, start=1)}
    tables = {}
    for dimension, data in zip(dimensions, ratings, strict=True):
        keys = [c.key for c in data.categories]
        rows = [
            (int(unit), number[int(coder)], _value(value, keys))
            for unit, coder, value in zip(
                data.unit, data.coder, data.value, strict=True
            )
        ]
        tables[dimension.key] = sorted(rows)
    return tables


def _value(value: Any, keys: list[str]) -> str:
    if isinstance(value, (frozenset, set)):
        return "|".join(keys[i] for i in sorted(value))
    return keys[int(value)]


def _csv(rows: list[tuple[int, int, str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("unit", "coder", "value"))
    writer.writerows(rows)
    return out.getvalue()


def _method(d: Any, name: str) -> str | None:
    """The interval method of a coefficient (WP1's per-coefficient methods when
    the report has them; the percentile bootstrap before)."""
    if name not in d.intervals:
        return None
    methods = getattr(d, "interval_methods", None) or {}
    return methods.get(name, "percentile")


def expected(report: ReliabilityReport) -> dict[str, Any]:
    """Every figure of the report, as replicate.py checks it."""
    facts = report.facts
    dimensions = []
    for d in report.dimensions:
        notes = getattr(d, "interval_notes", None) or {}
        coefficients = {}
        for name, r in d.coefficients.items():
            low, high = d.intervals.get(name, (math.nan, math.nan))
            interval = [_number(low), _number(high)]
            coefficients[name] = {
                "value": _number(r.value),
                "n_units": r.n_units,
                "n_pairable": r.n_pairable,
                # The report's "Rests on" and "Units": all coded units for
                # Fleiss', Conger's, Scott's and Gwet's (their chance terms).
                "units": d.units(name),
                "interval": interval if None not in interval else None,
                "method": _method(d, name),
                "note": notes.get(name, ""),
            }
        dimensions.append(
            {
                "key": d.key,
                "label": d.label,
                "level": d.level,
                "weights": d.weights,
                "categories": [key for key, _ in d.categories],
                "ratings": f"ratings/{d.key}.csv",
                "primary": report.primary.get(d.key),
                "n_ratings": d.n_ratings,
                "n_units_coded": d.n_units_coded,
                "n_units": d.estimate.n_units,
                "n_pairable": d.estimate.n_pairable,
                "n_coders": d.estimate.n_coders,
                "p_below": {f"{m:.3f}": _number(p) for m, p in d.alpha.p_below.items()},
                "coefficients": coefficients,
            }
        )
    return {
        "format": 1,
        "project": report.project.name,
        "codebook": {
            "name": facts.codebook_name,
            "version": facts.codebook_version,
            "digest": facts.codebook_digest,
        },
        "generated_at": report.generated_at.isoformat(),
        "n_resamples": report.report.n_resamples,
        "seed": report.report.seed,
        "confidence": facts.confidence,
        "resampling": RESAMPLING,
        "tolerances": {
            "estimate": ESTIMATE_TOLERANCE,
            "interval": INTERVAL_TOLERANCE,
        },
        "dimensions": dimensions,
    }


def readme(report: ReliabilityReport) -> str:
    keys = ", ".join(f"ratings/{d.key}.csv" for d in report.dimensions)
    return f"""Replication bundle: {report.project.name}
Codebook {report.facts.codebook_name}, version {report.facts.codebook_version}.

Files
  {keys}
      one rating per row: unit,coder,value. unit is the span id in the
      annotation tool, coder a number 1..k (coders in the order the tool
      registered them; no names), value the category key (a multi-choice
      answer: its keys joined by "|"; empty: no category chosen).
  codebook.yaml     the codebook version the figures are of.
  expected.json     every figure of the report: estimates, intervals with their
                    method, resamples, seed and confidence.
  requirements.txt  the packages replicate.py needs, pinned.
  replicate.py      re-computes every figure and compares it with expected.json.

Run (Python 3.10 to 3.12: scipy 1.12, which irrCAC 0.4.4 pins, has no wheels
for 3.13):
  python3.12 -m venv venv
  venv/bin/pip install -r requirements.txt
  venv/bin/python replicate.py            # exit status 1 if any figure is off
  venv/bin/python replicate.py --resamples 10000   # tighter interval checks

Estimates must agree to {ESTIMATE_TOLERANCE:g}. Bootstrap interval ends are drawn
afresh by the script, so they agree within a tolerance it prints.

Privacy: no text and no coder names are here, but the span ids link each rating
back to the corpus in the annotation tool.
"""


def write_bundle(report: ReliabilityReport, file: str | Path | IO[bytes]) -> None:
    """Write the report's replication zip to ``file`` (a path or binary file)."""
    stamp = report.generated_at.timetuple()[:6]
    members = {"README.txt": readme(report)}
    for key, rows in ratings_tables(report).items():
        members[f"ratings/{key}.csv"] = _csv(rows)
    members["codebook.yaml"] = dump_codebook(report.codebook)
    members["expected.json"] = (
        json.dumps(expected(report), indent=2, ensure_ascii=False, allow_nan=False)
        + "\n"
    )
    members["requirements.txt"] = "\n".join(REQUIREMENTS) + "\n"
    members["replicate.py"] = TEMPLATE.read_text(encoding="utf-8")
    with zipfile.ZipFile(file, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in members.items():
            info = zipfile.ZipInfo(name, date_time=max(stamp, (1980, 1, 1, 0, 0, 0)))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, text.encode("utf-8"))
