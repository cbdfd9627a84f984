from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "palpate.accounts"
    label = "accounts"

    def ready(self) -> None:
        from palpate.accounts import checks  # noqa: F401  (registers the deployment checks)
