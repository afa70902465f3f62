"""Fit a formula from survey microdata and save it as a draft formula version.

    manage.py calibrate_formula SURVEY.csv|.parquet [--base ID@VERSION|FILE.yaml]
        [--formula-version V] [--threshold 9.3264284 ...] [--percentile 20 ...] [--folds 5]
        [--reference-region urban=04 ...] [--dry-run]

The survey has one row per household: a column per variable key of the base formula (derived
values), `region` (HCP code), `milieu` (urban/rural) and `consumption_per_person`. Prints the
coefficients with standard errors, R², and out-of-sample inclusion and exclusion errors.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import polars as pl
from django.core.management.base import BaseCommand, CommandError

from sijill.accounts.actors import SYSTEM
from sijill.core.errors import SijillError
from sijill.scoring import selectors, services
from sijill.scoring.engine import Formula, load_formula
from sijill.scoring.engine.calibration import CalibrationResult, calibrate
from sijill.scoring.models import FormulaVersion


def _base(value: str | None) -> Formula:
    if not value:
        current = selectors.formula_current()
        if current is None:
            raise CommandError("No active formula: give --base")
        return selectors.formula_of(current)
    if value.endswith((".yaml", ".yml")) or Path(value).exists():
        return load_formula(value)
    identifier, _, version = value.partition("@")
    fv = FormulaVersion.objects.filter(identifier=identifier, version=version).first()
    if fv is None:
        raise CommandError(f"No formula version {value!r} (use IDENTIFIER@VERSION or a file)")
    return selectors.formula_of(fv)


def _pct(x: float) -> str:
    return "   n/a" if math.isnan(x) else f"{100 * x:5.1f}%"


def report(result: CalibrationResult) -> list[str]:
    lines = []
    for milieu, fit in result.fits.items():
        lines.append(f"== {milieu.value}: n={fit.n}  R²={fit.r2:.4f}  adjusted R²="
                     f"{fit.adjusted_r2:.4f}  residual SD={fit.residual_sd:.4f}  "
                     f"reference region {fit.reference_region}")
        for c in fit.coefficients:
            lines.append(f"   {c.name:<45} {c.estimate:>12.6f}  (SE {c.standard_error:.6f})")
    if result.errors:
        lines.append(f"== out-of-sample targeting errors ({result.folds}-fold)")
        lines.append("   cutoff               milieu  region      n   poor  eligible  "
                     "inclusion  exclusion")
        for e in result.errors:
            cutoff = (f"threshold {e.cutoff_value:g}" if e.cutoff == "threshold"
                      else f"p{e.cutoff_value:g} ({e.line:.4f})")
            lines.append(f"   {cutoff:<20} {e.milieu:<7} {e.region:<6} {e.n:>6} {e.poor:>6} "
                         f"{e.eligible:>9}  {_pct(e.inclusion_error):>9}  "
                         f"{_pct(e.exclusion_error):>9}")
    return lines


class Command(BaseCommand):
    help = "Calibrate a formula from survey microdata (OLS of log consumption per person) " \
           "and save it as a draft version."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("survey", help="CSV or Parquet file")
        parser.add_argument("--base", help="IDENTIFIER@VERSION or a YAML file (default: active)")
        parser.add_argument("--formula-version", dest="formula_version",
                            help="version of the new draft (default: generated)")
        parser.add_argument("--identifier", help="identifier (default: the base's)")
        parser.add_argument("--name", help="name (default: the base's)")
        parser.add_argument("--threshold", type=float, action="append", default=[])
        parser.add_argument("--percentile", type=float, action="append", default=[])
        parser.add_argument("--folds", type=int, default=5)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--reference-region", action="append", default=[],
                            help="MILIEU=CODE, e.g. urban=04")
        parser.add_argument("--consumption-column", default="consumption_per_person")
        parser.add_argument("--dry-run", action="store_true", help="report only, save nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["survey"])
        if not path.exists():
            raise CommandError(f"No such file: {path}")
        base = _base(options["base"])
        references = {}
        for r in options["reference_region"]:
            milieu, sep, region = r.partition("=")
            if not sep or not milieu or not region:
                raise CommandError(f"--reference-region {r!r}: write MILIEU=REGION, e.g. "
                                   "urban=04")
            references[milieu] = region
        thresholds = options["threshold"] or [t.value for t in base.thresholds]
        try:
            result = calibrate(path, base=base, version=options["formula_version"],
                               identifier=options["identifier"], name=options["name"],
                               consumption_column=options["consumption_column"],
                               reference_regions=references or None, folds=options["folds"],
                               thresholds=thresholds, percentiles=options["percentile"],
                               seed=options["seed"])
        except (ValueError, KeyError, OSError, pl.exceptions.PolarsError) as exc:
            # A survey file that cannot be read (empty, not CSV/Parquet, a column missing) is
            # the user's to fix: say so in one line, no traceback.
            raise CommandError(f"Calibration failed: {type(exc).__name__}: {exc}") from exc
        for line in report(result):
            self.stdout.write(line)
        if options["dry_run"]:
            self.stdout.write("Dry run: nothing saved.")
            return
        try:
            fv = services.formula_save_draft(actor=SYSTEM, formula=result.formula)
        except SijillError as exc:
            detail = "; ".join(f"{f.field}: {f.message}" for f in exc.fields)
            raise CommandError(f"{exc.message} {detail}") from exc
        self.stdout.write(self.style.SUCCESS(f"Saved draft {fv.label} (id {fv.pk})."))
