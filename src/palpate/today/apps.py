from django.apps import AppConfig


class TodayConfig(AppConfig):
    name = "palpate.today"
    label = "today"
    verbose_name = "Today"
