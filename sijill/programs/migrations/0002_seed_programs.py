"""Seed programs: AMO Tadamon, direct social aid (ASD), school support, disability allowance.

Thresholds: the two published values (AMO Tadamon 9.3264284, ASD 9.743001); the comparison is
"<" (the official announcement: eligible when the index is below the threshold). School support
and the disability allowance are examples that use the ASD threshold. Benefit amounts are
examples for costing, configurable per program (see sijill/programs/README.md).
"""

from django.db import migrations

SCHOOL_AGE = 'members.exists(m, m.age >= 6 && m.age <= 14 && m.schooling != "not_schooled")'
DISABILITY = 'members.exists(m, m.disability != "none")'

PROGRAMS = [
    {"code": "amo-tadamon", "name_ar": "أمو تضامن", "name_fr": "AMO Tadamon",
     "name_en": "AMO Tadamon (health insurance)",
     "purpose": "Health insurance of households unable to pay contributions (AMO Tadamon)",
     "threshold": 9.3264284, "conditions": []},
    {"code": "asd", "name_ar": "الدعم الاجتماعي المباشر", "name_fr": "Aide sociale directe",
     "name_en": "Direct social aid",
     "purpose": "Monthly direct social aid to households (ASD)",
     "threshold": 9.743001, "conditions": [],
     "benefit_per_child": 250, "benefit_child_age": 18, "benefit_minimum": 500},
    {"code": "school-support", "name_ar": "دعم التمدرس", "name_fr": "Soutien à la scolarité",
     "name_en": "School support", "purpose": "Support to the schooling of children aged 6 to 14",
     "threshold": 9.743001,
     "conditions": [{"key": "school_age_child_in_school", "expression": SCHOOL_AGE}],
     "benefit_per_child": 200, "benefit_child_age": 15},
    {"code": "disability-allowance", "name_ar": "منحة الإعاقة",
     "name_fr": "Allocation handicap", "name_en": "Disability allowance",
     "purpose": "Allowance to households with a member living with a disability",
     "threshold": 9.743001,
     "conditions": [{"key": "member_with_disability", "expression": DISABILITY}],
     "benefit_per_household": 400},
]


def seed(apps, schema_editor):
    Program = apps.get_model("programs", "Program")
    for values in PROGRAMS:
        Program.objects.update_or_create(
            code=values["code"],
            defaults={**values, "comparison": "<", "status": "active", "updated_by": "seed"})


def unseed(apps, schema_editor):
    apps.get_model("programs", "Program").objects.filter(
        code__in=[p["code"] for p in PROGRAMS], decisions__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("programs", "0001_programs_decisions_access")]
    operations = [migrations.RunPython(seed, unseed)]
