from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Operations: backups and restores, the background worker, health and readiness, deploy checks."""

    name = "palpate.ops"
    label = "ops"
    verbose_name = "Palpate operations"

    def ready(self) -> None:
        from palpate.ops import checks  # noqa: F401  (registers the deploy checks)
