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
    import json

    from sijill.security.documents import is_sealed_document, open_document

    connection = schema_editor.connection
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, question, answer FROM verification_evidence")
        rows = cursor.fetchall()
        for pk, *values in rows:
            clear = [json.dumps(open_document(f"verification_evidence.{c}", v))
                     if is_sealed_document(v) else v for c, v in zip(("question", "answer"),
                                                                      values, strict=True)]
            cursor.execute("UPDATE verification_evidence SET question = %s, answer = %s "
                           "WHERE id = %s", [*clear, pk])


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
