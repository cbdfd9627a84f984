from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "palpate.scheduling"
    label = "scheduling"
    verbose_name = "Scheduling"

    def ready(self) -> None:
        from palpate.discharge.hooks import on_discharge_signed
        from palpate.patients.chart import add_panel
        from palpate.scheduling.panels import episode_panel, patient_panel, plan_panel
        from palpate.scheduling.services import (
            cancel_for_discharge,
            complete_for_signed_visit,
            release_for_voided_visit,
        )
        from palpate.visits.hooks import on_visit_signed, on_visit_voided

        # After the plan of care (20), before the visits (30): the series booked from the plan.
        add_panel("episode", "schedule", 25, "scheduling/_episode_panel.html", episode_panel)
        add_panel("patient", "appointments", 5, "scheduling/_patient_panel.html", patient_panel)
        add_panel("plan", "schedule", 10, "scheduling/_plan_panel.html", plan_panel)
        on_visit_signed(complete_for_signed_visit)
        on_visit_voided(release_for_voided_visit)
        on_discharge_signed(cancel_for_discharge)
