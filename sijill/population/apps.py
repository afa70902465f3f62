from django.apps import AppConfig


class PopulationConfig(AppConfig):
    name = "sijill.population"
    label = "population"
    verbose_name = "Population register (RNP)"
