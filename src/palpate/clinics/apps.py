from django.apps import AppConfig


class ClinicsConfig(AppConfig):
    name = "palpate.clinics"
    label = "clinics"
