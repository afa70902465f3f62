"""On PostgreSQL, refuse UPDATE and DELETE of scores at the database itself."""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION scoring_score_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'scores are immutable (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER scoring_score_immutable
    BEFORE UPDATE OR DELETE ON scoring_score
    FOR EACH ROW EXECUTE FUNCTION scoring_score_immutable();
"""
BACKWARD = """
DROP TRIGGER IF EXISTS scoring_score_immutable ON scoring_score;
DROP FUNCTION IF EXISTS scoring_score_immutable();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("scoring", "0002_install_default_formula")]
    operations = [migrations.RunPython(forward, backward)]
