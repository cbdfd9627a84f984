from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "palpate.web"
    label = "web"
    verbose_name = "Palpate web"
