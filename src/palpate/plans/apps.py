from django.apps import AppConfig


class PlansConfig(AppConfig):
    name = "palpate.plans"
    label = "plans"

    def ready(self) -> None:
        from palpate.patients.chart import add_panel
        from palpate.plans.templatetags.plans_tags import plan_panel

        add_panel("episode", "plans", 20, "plans/_episode_panel.html", plan_panel)
