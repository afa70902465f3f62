from django.apps import AppConfig


class HouseholdsConfig(AppConfig):
    name = "sijill.households"
    label = "households"
    verbose_name = "Social registry (RSU): households"

    def ready(self) -> None:
        from sijill.households import receivers  # noqa: F401  (connects the signal receivers)
