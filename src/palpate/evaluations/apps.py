from django.apps import AppConfig


class EvaluationsConfig(AppConfig):
    name = "palpate.evaluations"
    label = "evaluations"
