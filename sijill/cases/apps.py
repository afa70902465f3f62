from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "sijill.cases"
    label = "cases"
    verbose_name = "Citizen services: tracking, updates, score reviews, complaints"
