"""On PostgreSQL, refuse UPDATE and DELETE of scores at the database itself."""

from django.db import migrations

from sijill.core.immutable import refuse_update_and_delete


class Migration(migrations.Migration):
    dependencies = [("scoring", "0002_install_default_formula")]
    operations = [refuse_update_and_delete(table="scoring_score",
                                           name="scoring_score_immutable",
                                           message="scores are immutable (% refused)")]
