"""Runs that can be taken over when their worker dies (attempt, worker, heartbeat), and each
cluster member carries its run so that a person is in one cluster per run."""

import django.db.models.deletion
from django.db import migrations, models


def fill_member_run(apps, schema_editor):
    ClusterMember = apps.get_model("dedup", "ClusterMember")
    DuplicateCluster = apps.get_model("dedup", "DuplicateCluster")
    for cluster_id, run_id in DuplicateCluster.objects.values_list("id", "run_id").iterator():
        ClusterMember.objects.filter(cluster_id=cluster_id).update(run_id=run_id)


class Migration(migrations.Migration):
    dependencies = [
        ("dedup", "0001_initial"),
        ("population", "0001_person_register"),
    ]

    operations = [
        migrations.AddField(
            model_name="deduprun", name="attempt",
            field=models.PositiveSmallIntegerField(
                default=0,
                help_text="Executions started (a run whose worker died is taken over)."),
        ),
        migrations.AddField(
            model_name="deduprun", name="worker",
            field=models.CharField(blank=True, help_text="host:pid of the attempt.",
                                   max_length=120),
        ),
        migrations.AddField(
            model_name="deduprun", name="heartbeat_at",
            field=models.DateTimeField(blank=True, help_text="Last sign of life of the attempt.",
                                       null=True),
        ),
        migrations.AddField(
            model_name="clustermember", name="run",
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT,
                                    related_name="+", to="dedup.deduprun"),
        ),
        migrations.RunPython(fill_member_run, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="clustermember", name="run",
            field=models.ForeignKey(
                help_text="The cluster's run (a person is in one cluster per run).",
                on_delete=django.db.models.deletion.PROTECT, related_name="+",
                to="dedup.deduprun"),
        ),
        migrations.AddConstraint(
            model_name="clustermember",
            constraint=models.UniqueConstraint(fields=("run", "person"),
                                               name="dedup_member_once_per_run"),
        ),
    ]
