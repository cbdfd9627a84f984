from django.apps import AppConfig


class PlansConfig(AppConfig):
    name = "palpate.plans"
    label = "plans"
