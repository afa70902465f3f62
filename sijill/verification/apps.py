from django.apps import AppConfig


class VerificationConfig(AppConfig):
    name = "sijill.verification"
    label = "verification"
    verbose_name = "Verification with partner bodies"

    def ready(self) -> None:
        from sijill.scoring.verified import provider_register, source_names_register
        from sijill.verification import receivers  # noqa: F401  (connects the receivers)
        from sijill.verification.connectors import CONNECTORS
        from sijill.verification.selectors import verified_bases

        provider_register(verified_bases)
        source_names_register({code: c.name for code, c in CONNECTORS.items()})
