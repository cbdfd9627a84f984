from django.apps import AppConfig


class ClinicsConfig(AppConfig):
    name = "palpate.clinics"
    label = "clinics"

    def ready(self) -> None:
        # The accounts app (below) writes an account's sign-in events into the trail of each of
        # its clinics; which clinics those are is known here (palpate.accounts.events).
        from palpate.accounts.events import set_clinics_of
        from palpate.clinics.staff import clinics_of_account

        set_clinics_of(clinics_of_account)
