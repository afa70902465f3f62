"""Install the shipped Moroccan formula (sijill/scoring/formulas/ma-rsu-2021.yaml) as the active
version of `ma-rsu-2021`, with its provenance (unverified transcription; the rural car
coefficient is unknown, so the version is provisional)."""

from django.db import migrations
from django.utils import timezone


def install(apps, schema_editor):
    from sijill.scoring.engine.formula import DEFAULT_FORMULA_FILE, Formula

    FormulaVersion = apps.get_model("scoring", "FormulaVersion")
    text = DEFAULT_FORMULA_FILE.read_text(encoding="utf-8")
    formula = Formula.from_yaml(text)
    if FormulaVersion.objects.filter(identifier=formula.identifier,
                                     version=formula.version).exists():
        return
    active = not FormulaVersion.objects.filter(identifier=formula.identifier,
                                               status="active").exists()
    now = timezone.now()
    FormulaVersion.objects.create(
        identifier=formula.identifier, version=formula.version, name=formula.name,
        status="active" if active else "draft",
        provenance={**formula.to_dict()["provenance"], "verified_against_official_text":
                    formula.provenance.verified_against_official_text},
        effective_date=formula.effective_date,
        provisional=formula.is_provisional, definition=text, created_by="migration",
        activated_at=now if active else None, activated_by="migration" if active else "")


def uninstall(apps, schema_editor):
    FormulaVersion = apps.get_model("scoring", "FormulaVersion")
    FormulaVersion.objects.filter(identifier="ma-rsu-2021", version="1.0.0",
                                  created_by="migration", scores__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("scoring", "0001_formulas_scores_runs")]
    operations = [migrations.RunPython(install, uninstall)]
