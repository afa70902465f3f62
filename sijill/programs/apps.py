from django.apps import AppConfig


class ProgramsConfig(AppConfig):
    name = "sijill.programs"
    label = "programs"
    verbose_name = "Social programs: rules, eligibility, targeting"

    def ready(self) -> None:
        from sijill.programs import receivers  # noqa: F401  (connects the signal receivers)
