"""On PostgreSQL, the encrypted member columns may be rewritten in place only by a key rotation
(a transaction marked by `core.immutable.rekeying`), no longer by any UPDATE that changes
nothing else."""

from django.db import migrations

from sijill.core.immutable import allow_rekeying

COLUMNS = ("disability", "health_coverage")


class Migration(migrations.Migration):
    dependencies = [("households", "0006_declarations_and_events_immutable")]
    operations = [
        allow_rekeying(name="households_memberdeclaration_immutable",
                       message="declared member records are immutable (% refused)",
                       rewritable=COLUMNS, before=COLUMNS),
    ]
