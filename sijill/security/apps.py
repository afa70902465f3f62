from django.apps import AppConfig


class SecurityConfig(AppConfig):
    name = "sijill.security"
    label = "security"
    verbose_name = "Security"
