"""On PostgreSQL, a key rotation (a transaction marked by `core.immutable.rekeying`) may
re-encrypt the sensitive codes a score keeps in its inputs; every other UPDATE stays refused.
Before, old scores could not be read once an old field key was dropped."""

from django.db import migrations

from sijill.core.immutable import allow_rekeying


class Migration(migrations.Migration):
    dependencies = [("scoring", "0005_run_heartbeat_and_attempts")]
    operations = [
        allow_rekeying(name="scoring_score_immutable", message="scores are immutable (% refused)",
                       rewritable=("inputs",)),
    ]
