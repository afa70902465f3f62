from django.apps import AppConfig


class ScoringConfig(AppConfig):
    name = "sijill.scoring"
    label = "scoring"
    verbose_name = "Socio-economic index (ISE): formulas and scores"

    def ready(self) -> None:
        from sijill.scoring import receivers  # noqa: F401  (connects the signal receivers)
