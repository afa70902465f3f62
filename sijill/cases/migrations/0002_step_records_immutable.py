"""On PostgreSQL, refuse UPDATE and DELETE of review steps, complaint steps and declared changes."""

from django.db import migrations

from sijill.core.immutable import refuse_update_and_delete


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_reviews_complaints_changes")]
    operations = [
        refuse_update_and_delete(table="cases_reviewevent", name="cases_reviewevent_immutable",
                                 message="review steps are immutable (% refused)"),
        refuse_update_and_delete(table="cases_complaintevent",
                                 name="cases_complaintevent_immutable",
                                 message="complaint steps are immutable (% refused)"),
        refuse_update_and_delete(table="cases_changedeclaration",
                                 name="cases_changedeclaration_immutable",
                                 message="declared changes are immutable (% refused)"),
    ]
