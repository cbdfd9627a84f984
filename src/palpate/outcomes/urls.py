from django.urls import path  # noqa: F401

from palpate.outcomes import views  # noqa: F401

app_name = "outcomes"

# Mounted under /patients/<int:pk>/outcomes/ by palpate.web.urls: every view takes the patient pk.
urlpatterns: list = []
