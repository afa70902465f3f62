"""The batch-file path (a partner's daily CSV or Parquet file), and the bulk rescore reading
the verified values."""

from __future__ import annotations

import urllib.request

import pytest
import yaml

from sijill.accounts.actors import SYSTEM
from sijill.scoring import selectors as scoring_selectors
from sijill.scoring import services as scoring
from sijill.scoring.engine import Verified
from sijill.scoring.engine.formula import DEFAULT_FORMULA_FILE
from sijill.scoring.models import FormulaVersion, Score, ScoringRun
from sijill.verification import services
from sijill.verification.models import Evidence, Verification
from sijill.verification.sealed import unseal_values
from sijill.verification.tests.conftest import family, truthful

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_a_partners_daily_file_answers_the_pending_checks_once(
        simulator, records, tmp_path, fmt, django_capture_on_commit_callbacks):
    household, head, _ = family(cars=0)
    truthful(records, head, cars=1)
    simulator.control(down=["vehicles"])
    verification = Verification.objects.get(household=household)
    with django_capture_on_commit_callbacks(execute=True):
        services.verification_process(verification.pk)
    # The registry drops its daily extract instead.
    suffix = "?format=parquet" if fmt == "parquet" else ""
    with urllib.request.urlopen(f"{simulator.url}/vehicles/export{suffix}") as r:  # noqa: S310
        path = tmp_path / f"vehicles-2026-11-29.{fmt}"
        path.write_bytes(r.read())
    with django_capture_on_commit_callbacks(execute=True):
        report = services.batch_import(partner="vehicles", path=path)
    assert (report.rows, report.matched, report.already) == (2, 1, 0)
    check = verification.checks.get(partner="vehicles")
    assert check.status == "answered"
    answer = Evidence.objects.get(partner_check=check, outcome="answer")
    assert answer.channel == "batch" and answer.attempt == 2
    verification.refresh_from_db()
    assert verification.status == "concluded"
    assert verification.values["household"]["cars"] == [1, "vehicles"]
    # The same file again adds nothing.
    with django_capture_on_commit_callbacks(execute=True):
        again = services.batch_import(partner="vehicles", path=path)
    assert (again.matched, again.already) == (0, 1)
    assert Evidence.objects.filter(partner_check=check).count() == 2


def test_an_unknown_partner_or_format_is_refused(tmp_path):
    from sijill.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        services.batch_import(partner="weather", path=tmp_path / "x.csv")
    (tmp_path / "x.json").write_text("{}")
    with pytest.raises(ValidationFailed):
        services.batch_import(partner="vehicles", path=tmp_path / "x.json")


def _activate_new_formula() -> FormulaVersion:
    data = yaml.safe_load(DEFAULT_FORMULA_FILE.read_text(encoding="utf-8"))
    data["version"] = "1.0.1-test"
    draft = scoring.formula_import(actor=SYSTEM, text=yaml.safe_dump(data, allow_unicode=True))
    FormulaVersion.objects.filter(status="active").update(status="retired")
    FormulaVersion.objects.filter(pk=draft.pk).update(status="active",
                                                      activated_at=draft.created_at)
    return FormulaVersion.objects.get(pk=draft.pk)


def test_the_bulk_rescore_uses_the_verified_values(
        simulator, records, django_capture_on_commit_callbacks):
    # One household with household-level verified values only (batch path), one with a
    # verified member field too (single path), one never verified (declared only).
    plain, head_a, _ = family(cars=0)
    truthful(records, head_a, cars=2)
    member, head_b, _ = family(cars=0)
    truthful(records, head_b)
    records.add("social_security", [{"idcs": head_b.idcs, "scheme": "CNOPS",
                                     "regime": "public"}])
    for h in (plain, member):
        with django_capture_on_commit_callbacks(execute=True):
            services.verification_process(Verification.objects.get(household=h).pk)
    unverified, _, _ = family()
    fv = _activate_new_formula()
    run = ScoringRun.objects.create(kind="rescore", formula=fv, created_by="test")
    scoring.rescore_run(run, chunk_size=2)
    formula = scoring_selectors.formula_of(fv)
    for h in (plain, member, unverified):
        stored = Score.objects.get(household=h, formula=fv)
        v = Verification.objects.get(household=h)
        basis = v.basis
        household = {f: Verified(x, p) for f, (x, p) in (v.values.get("household") or {}).items()}
        members = {i: {f: Verified(x, p) for f, (x, p) in fs.items()}
                   for i, fs in (unseal_values(v.values).get("members") or {}).items()}
        single = scoring.score_household(formula, scoring.engine_input(
            stored.declaration, verified=household, member_verified=members))
        assert stored.basis == basis
        assert stored.value == pytest.approx(single.value, abs=1e-9)
        assert stored.verified_by == {x.key: list(x.verified_by) for x in single.variables
                                      if x.verified_by}
        assert stored.inputs["verified"] == {f: [x.value, x.source]
                                             for f, x in household.items()}
    assert Score.objects.get(household=plain, formula=fv).inputs["verified"]["cars"] == [
        2, "vehicles"]
    assert Score.objects.get(household=member, formula=fv).inputs["member_verified"][
        head_b.idcs]["employment_status"] == ["public_employee", "social_security"]
