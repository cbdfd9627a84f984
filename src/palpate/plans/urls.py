from django.urls import path  # noqa: F401

from palpate.plans import views  # noqa: F401

app_name = "plans"

# Mounted under /patients/<int:pk>/plans/ by palpate.web.urls: every view takes the patient pk.
urlpatterns: list = []
