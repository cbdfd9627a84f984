from django.apps import AppConfig


class DischargeConfig(AppConfig):
    name = "palpate.discharge"
    label = "discharge"
    verbose_name = "Discharge"

    def ready(self) -> None:
        from palpate.discharge.panels import episode_panel
        from palpate.patients.chart import add_panel

        # After outcomes (the chart's order): the last thing an episode shows is how it ended.
        add_panel("episode", "discharge", 90, "discharge/_episode_panel.html", episode_panel)
