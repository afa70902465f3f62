"""Partner questions and answers kept as evidence are encrypted at rest
(sijill.security.documents): the columns become text, and rows written in clear are sealed."""

from django.db import migrations

import sijill.security.documents


def seal_clear_rows(apps, schema_editor):  # type: ignore[no-untyped-def]
    from sijill.security.rotation import reseal_documents

    reseal_documents(schema_editor.connection, table="verification_evidence",
                     columns=("question", "answer"))


def open_sealed_rows(apps, schema_editor):  # type: ignore[no-untyped-def]
    """Reversed: every document back to clear JSON text, so the columns can become JSON
    again (the sealed text is not JSON)."""
    from sijill.security.rotation import unseal_documents

    unseal_documents(schema_editor.connection, table="verification_evidence",
                     columns=("question", "answer"))


class Migration(migrations.Migration):

    dependencies = [
        ('verification', '0001_verification_evidence_discrepancies'),
    ]

    operations = [
        migrations.AlterField(
            model_name='evidence',
            name='answer',
            field=sijill.security.documents.EncryptedJSONField(default=dict),
        ),
        migrations.AlterField(
            model_name='evidence',
            name='question',
            field=sijill.security.documents.EncryptedJSONField(default=dict),
        ),
        migrations.RunPython(seal_clear_rows, open_sealed_rows, elidable=False),
    ]
