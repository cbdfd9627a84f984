from django.apps import AppConfig


class EvaluationsConfig(AppConfig):
    name = "palpate.evaluations"
    label = "evaluations"

    def ready(self) -> None:
        from palpate.evaluations.templatetags.evaluations_tags import evaluation_panel, referrals_card
        from palpate.patients.chart import add_panel

        add_panel("patient", "open_referrals", 10, "evaluations/_open_referrals_card.html", referrals_card)
        add_panel("episode", "evaluations", 10, "evaluations/_episode_panel.html", evaluation_panel)
