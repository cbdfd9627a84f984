from django.apps import AppConfig


class OutcomesConfig(AppConfig):
    name = "palpate.outcomes"
    label = "outcomes"
