from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "palpate.patients"
    label = "patients"

    def ready(self) -> None:
        # The audit log (a layer below) names patients and filters by them through this slot.
        from palpate.audit.patients import set_directory
        from palpate.patients.audit_directory import PatientsForTheAuditLog

        set_directory(PatientsForTheAuditLog())
