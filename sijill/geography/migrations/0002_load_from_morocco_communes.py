from django.db import migrations


def load(apps, schema_editor):
    from sijill.geography.services import geography_load_from_package

    geography_load_from_package(apps=apps)


class Migration(migrations.Migration):
    dependencies = [("geography", "0001_regions_provinces_communes")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
