from django.apps import AppConfig


class DedupConfig(AppConfig):
    name = "sijill.dedup"
    label = "dedup"
    verbose_name = "Population-wide duplicate detection"
