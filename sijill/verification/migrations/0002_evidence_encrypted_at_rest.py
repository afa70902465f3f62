"""Partner questions and answers kept as evidence are encrypted at rest
(sijill.security.documents): the columns become text, and rows written in clear are sealed."""

from django.db import migrations

import sijill.security.documents


def seal_clear_rows(apps, schema_editor):  # type: ignore[no-untyped-def]
    from sijill.security.rotation import DOCUMENTS, reseal_documents

    table = "verification_evidence"
    reseal_documents(schema_editor.connection, table=table, columns=DOCUMENTS[table])


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
        migrations.RunPython(seal_clear_rows, migrations.RunPython.noop, elidable=False),
    ]
