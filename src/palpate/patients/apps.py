from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "palpate.patients"
    label = "patients"
