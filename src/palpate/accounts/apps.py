from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "palpate.accounts"
    label = "accounts"
