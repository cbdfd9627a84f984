from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "palpate.audit"
    label = "audit"
