"""Inter-coder agreement from the command line: a project's report, or any CSV.

    manage.py agreement --project 3                       # readable table
    manage.py agreement --project 3 --json                # the API's JSON
    manage.py agreement --csv ratings.csv --level ordinal --weights quadratic --json

Intervals are the report's: each coefficient by its method
(``interval_policy.METHOD``), from ``--resamples`` unit resamples drawn with
``--seed``; the same data and seed give the same numbers here and on the page.

The CSV has a header with ``unit,coder,value`` (one rating per row; for
``--level set`` the labels of one rating joined by ``|``, empty for none). Bad input
exits with status 2 and a message naming the file and line.
"""

from __future__ import annotations

import json
import math
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotator.agreement import (
    LEVELS,
    WEIGHT_NAMES,
    RatingsInputError,
    read_ratings_csv,
    summary,
)
from annotator.agreement.interval_policy import NAME
from annotator.agreement_report import OVER, project_report
from annotator.models import Project

BAD_INPUT = 2


def _json_value(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_value(v) for v in value]
    return value


def _fmt(value: float, digits: int = 3) -> str:
    return f"{value:.{digits}f}" if math.isfinite(value) else "–"


class Command(BaseCommand):
    help = (
        "Agreement figures: --project ID prints a project's report; --csv FILE "
        "--level L computes every coefficient from a unit,coder,value CSV."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--project", type=int, help="Project id.")
        source.add_argument("--csv", help="CSV with a unit,coder,value header.")
        parser.add_argument(
            "--level",
            choices=LEVELS,
            help="Level of measurement of the CSV's values (required with --csv).",
        )
        parser.add_argument(
            "--weights",
            choices=WEIGHT_NAMES,
            default="identity",
            help="Weights for percent agreement and the kappa family (positions on "
            "the ordered scale).",
        )
        parser.add_argument(
            "--categories",
            help="Comma-separated ordered scale (labels for --level set); values "
            "outside it are an error. Default: the sorted values seen (numerically "
            "when all are numbers).",
        )
        parser.add_argument(
            "--json", action="store_true", help="Print one JSON object."
        )
        parser.add_argument("--over", choices=OVER, default="week")
        parser.add_argument("--batch-size", type=int, default=100)
        parser.add_argument(
            "--resamples", type=int, default=1000, help="Unit resamples (1000)."
        )
        parser.add_argument(
            "--seed", type=int, default=0, help="Seed of the resamples (0)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["csv"]:
            self.from_csv(options)
        else:
            self.from_project(options)

    def from_csv(self, options: dict[str, Any]) -> None:
        level = options["level"]
        if level is None:
            raise CommandError("--csv needs --level", returncode=BAD_INPUT)
        categories = None
        if options["categories"] is not None:
            categories = [c.strip() for c in options["categories"].split(",")]
            if not all(categories):
                raise CommandError(
                    "--categories has an empty entry", returncode=BAD_INPUT
                )
        try:
            ratings = read_ratings_csv(
                options["csv"], level=level, categories=categories
            )
            result = summary(
                *ratings,
                level=level,
                weights=options["weights"],
                categories=categories,
                n_resamples=options["resamples"],
                seed=options["seed"],
            )
        except FileNotFoundError as error:
            raise CommandError(
                f"{options['csv']}: no such file", returncode=BAD_INPUT
            ) from error
        except (RatingsInputError, ValueError) as error:
            raise CommandError(str(error), returncode=BAD_INPUT) from error
        if options["json"]:
            self.stdout.write(json.dumps(_json_value(result), allow_nan=False))
            return
        self.stdout.write(
            f"{options['csv']}: {result['n_units']} units with two or more ratings, "
            f"{result['n_pairable']} pairable values, {result['n_coders']} coders "
            f"(level {level}, {options['weights']} weights)"
        )
        self.stdout.write(
            f"  {'coefficient':<20} {'value':>8}  {result['confidence']:.0%} interval"
            f" ({result['resamples']:,} resamples, seed {result['seed']})"
        )
        for name, value in result["coefficients"].items():
            interval = result["intervals"].get(name)
            method = result["interval_methods"].get(name)
            note = result["interval_notes"].get(name, "")
            if interval is not None:
                shown = f"{_fmt(interval[0])} – {_fmt(interval[1])} ({NAME[method]})"
            elif method is not None:
                shown = f"withheld: {note}"
            else:
                shown = "–"
            self.stdout.write(f"  {name:<20} {_fmt(value):>8}  {shown}")

    def from_project(self, options: dict[str, Any]) -> None:
        project = Project.objects.filter(pk=options["project"]).first()
        if project is None:
            raise CommandError(
                f"no project with id {options['project']}", returncode=BAD_INPUT
            )
        try:
            report = project_report(
                project,
                over=options["over"],
                batch_size=options["batch_size"],
                n_resamples=options["resamples"],
                seed=options["seed"],
                documents_limit=None if options["json"] else 5,
            )
        except ValueError as error:
            raise CommandError(str(error), returncode=BAD_INPUT) from error
        if options["json"]:
            self.stdout.write(json.dumps(report.to_dict(), allow_nan=False))
            return
        out = self.stdout.write
        out(f"Agreement in project {project.pk} “{project.name}”")
        for d in report.dimensions:
            e = d.estimate
            out("")
            out(f"{d.label} [{d.key}, {d.level}]")
            out(f"  {d.reading}")
            out(
                f"  {e.n_units} units coded by two or more coders, "
                f"{e.n_pairable} pairable values, {e.n_coders} coders; "
                f"{e.excluded_units} single-coded units excluded"
            )
            if d.caution:
                out(f"  {d.caution}")
            out(
                f"  {'coefficient':<20} {'value':>8} {'95% interval':>25} "
                f"{'units':>7}  rests on"
            )
            for name, r in d.coefficients.items():
                low, high = d.intervals.get(name, (math.nan, math.nan))
                method = d.interval_methods.get(name)
                interval = (
                    f"{_fmt(low)} – {_fmt(high)}"
                    if d.interval_holds(name)
                    else "not reliable"
                    if math.isfinite(low)
                    else "withheld"
                    if method and name in d.interval_notes
                    else "–"
                )
                if method and d.interval_holds(name):
                    interval += f" ({NAME[method]})"
                units = d.units(name)
                out(
                    f"  {name:<20} {_fmt(r.value):>8} {interval:>25} {r.n_units:>7}"
                    f"  {units['basis']} units: {units['n']}"
                )
            for name, note in d.interval_notes.items():
                out(f"  {name} interval: {note}")
            if d.conger_cohen_note:
                out(f"  {d.conger_cohen_note}")
            out(
                f"  {'coder':<20} {'coded':>7} {'median s':>9} {'agree':>7} "
                f"{'α without':>10}"
            )
            for row in d.coders:
                s = row.stats
                out(
                    f"  {row.username:<20} {s.n_coded:>7} "
                    f"{_fmt(row.median_seconds, 1):>9} "
                    f"{_fmt(s.percent_agreement):>7} {_fmt(s.alpha_without):>10}"
                )
            out(
                "  per category (one-vs-rest α): "
                + ", ".join(f"{key} {_fmt(r.value)}" for key, _, r in d.per_category)
            )
            out(
                f"  over time (by {d.over}): "
                + ", ".join(
                    f"{row.label}: {_fmt(row.result.value)} ({row.result.n_units})"
                    for row in d.over_time
                )
            )
