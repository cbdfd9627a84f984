from django.apps import AppConfig


class LibConfig(AppConfig):
    """Installed only for its templates, static files and template tags; it has no models."""

    name = "palpate.lib"
    label = "lib"
    verbose_name = "Palpate shared helpers"
