from django.urls import path  # noqa: F401

from palpate.evaluations import views  # noqa: F401

app_name = "evaluations"

# Mounted under /patients/<int:pk>/evaluations/ by palpate.web.urls: every view takes the patient pk.
urlpatterns: list = []
