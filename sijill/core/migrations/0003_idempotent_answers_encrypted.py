"""The answers kept for idempotent replays are encrypted at rest (sijill.security.documents):
the column becomes text, and rows written in clear are sealed."""

from django.db import migrations

import sijill.security.documents


def seal_clear_rows(apps, schema_editor):  # type: ignore[no-untyped-def]
    from sijill.security.rotation import reseal_documents

    reseal_documents(schema_editor.connection, table="core_idempotencyrecord",
                     columns=("response_body",))


def open_sealed_rows(apps, schema_editor):  # type: ignore[no-untyped-def]
    from sijill.security.rotation import unseal_documents

    unseal_documents(schema_editor.connection, table="core_idempotencyrecord",
                     columns=("response_body",))


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0002_scheduled_job'),
    ]

    operations = [
        migrations.AlterField(
            model_name='idempotencyrecord',
            name='response_body',
            field=sijill.security.documents.EncryptedJSONField(),
        ),
        migrations.RunPython(seal_clear_rows, open_sealed_rows, elidable=False),
    ]
