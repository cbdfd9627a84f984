from django.urls import path  # noqa: F401

from palpate.visits import views  # noqa: F401

app_name = "visits"

# Mounted under /patients/<int:pk>/visits/ by palpate.web.urls: every view takes the patient pk.
urlpatterns: list = []
