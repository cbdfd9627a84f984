from django.apps import AppConfig


class VisitsConfig(AppConfig):
    name = "palpate.visits"
    label = "visits"
