from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "palpate.portal"
    label = "portal"
    verbose_name = "Patient portal"

    def ready(self) -> None:
        from palpate.patients.chart import add_panel
        from palpate.portal.chart import portal_panel
        from palpate.portal.checkins import schedule_after_signing
        from palpate.visits.hooks import on_visit_signed

        # The chart's patient panel: warning signs waiting, portal access, home programme, questionnaires.
        add_panel("patient", "portal", 5, "portal/_chart_panel.html", portal_panel)
        # A signed visit schedules the check-in 24-48 h later (palpate.visits.hooks, no signals).
        on_visit_signed(schedule_after_signing)
