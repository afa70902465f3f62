from django.apps import AppConfig


class SyntheticConfig(AppConfig):
    """The synthetic population: generator (no Django), database loader, commands. No models."""

    name = "sijill.synthetic"
    label = "synthetic"
    verbose_name = "Synthetic population"
