from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo clinics and their history (``palpate demo``); it has no models of its own."""

    name = "palpate.demo"
    label = "demo"
    verbose_name = "Demo data"
