from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "sijill.accounts"
    label = "accounts"
    verbose_name = "Accounts, roles and tokens"
