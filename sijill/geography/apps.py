from django.apps import AppConfig


class GeographyConfig(AppConfig):
    name = "sijill.geography"
    label = "geography"
    verbose_name = "Administrative geography"
