"""Seed the roll-out calendar with the pilot: Rabat-Salé-Kénitra (region 04) open from
2022-11-14, the launch of the pilot in Rabat and Kénitra (per press reports of the
RNP/RSU roll-out; adjust by configuration if the official decision says otherwise).

Every other region stays closed until a RolloutWindow is configured for it.
"""

from datetime import date

from django.db import migrations

PILOT = {"scope": "region", "code": "04", "opens_on": date(2022, 11, 14),
         "decision": "Pilot: Rabat-Salé-Kénitra region (Rabat and Kénitra), 2022-11-14"}


def seed(apps, schema_editor):
    RolloutWindow = apps.get_model("households", "RolloutWindow")
    RolloutWindow.objects.update_or_create(code=PILOT["code"], defaults=PILOT)


def unseed(apps, schema_editor):
    RolloutWindow = apps.get_model("households", "RolloutWindow")
    RolloutWindow.objects.filter(code=PILOT["code"], decision=PILOT["decision"]).delete()


class Migration(migrations.Migration):
    dependencies = [("households", "0001_households_members_declarations")]

    operations = [migrations.RunPython(seed, unseed)]
