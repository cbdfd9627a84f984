from django.apps import AppConfig


class OutcomesConfig(AppConfig):
    name = "palpate.outcomes"
    label = "outcomes"

    def ready(self) -> None:
        from palpate.outcomes.templatetags.outcomes_tags import outcome_panel
        from palpate.patients.chart import add_panel

        add_panel("episode", "outcomes", 40, "outcomes/_episode_panel.html", outcome_panel)
