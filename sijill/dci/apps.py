from django.apps import AppConfig


class DciConfig(AppConfig):
    name = "sijill.dci"
    label = "dci"
    verbose_name = "DCI Social Registry API"

    def ready(self) -> None:
        from sijill.dci import receivers  # noqa: F401  (connects the signal receivers)
