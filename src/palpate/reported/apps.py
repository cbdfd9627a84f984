from django.apps import AppConfig


class ReportedConfig(AppConfig):
    name = "palpate.reported"
    label = "reported"
    verbose_name = "Reported by the patient"
