"""On PostgreSQL, refuse UPDATE and DELETE of declaration versions, their members' records and
registration events: a change is a new version, a step a new event (the models refuse it in
Python; this holds for bulk `QuerySet.update()` and raw SQL too). Only the encrypted member
columns may be rewritten in place, when `manage.py rotate_field_keys` re-encrypts them."""

from django.db import migrations

from sijill.core.immutable import refuse_update_and_delete


class Migration(migrations.Migration):
    dependencies = [("households", "0005_drop_indexes_covered_or_unused")]
    operations = [
        refuse_update_and_delete(table="households_declarationversion",
                                 name="households_declarationversion_immutable",
                                 message="declaration versions are immutable (% refused)"),
        refuse_update_and_delete(table="households_memberdeclaration",
                                 name="households_memberdeclaration_immutable",
                                 message="declared member records are immutable (% refused)",
                                 rewritable=("disability", "health_coverage")),
        refuse_update_and_delete(table="households_registrationevent",
                                 name="households_registrationevent_immutable",
                                 message="registration events are immutable (% refused)"),
    ]
