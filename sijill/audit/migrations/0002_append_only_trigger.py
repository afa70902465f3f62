"""On PostgreSQL, refuse UPDATE and DELETE of audit entries at the database itself."""

from django.db import migrations

from sijill.core.immutable import refuse_update_and_delete


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_audit_trail")]
    operations = [refuse_update_and_delete(table="audit_auditentry",
                                           name="audit_entry_append_only",
                                           message="audit entries are append-only (% refused)")]
