from django.apps import AppConfig


class VisitsConfig(AppConfig):
    name = "palpate.visits"
    label = "visits"

    def ready(self) -> None:
        from palpate.patients.chart import add_panel
        from palpate.visits.templatetags.visits_tags import visit_panel

        add_panel("episode", "visits", 30, "visits/_episode_panel.html", visit_panel)
