from django.urls import path

from palpate.discharge import views

app_name = "discharge"

# Mounted under /patients/<id:pk>/discharge/ by palpate.web.urls: every view takes the patient pk.
urlpatterns = [
    path("episode/<id:episode_pk>/", views.episode_discharge, name="episode"),
    path("<id:discharge_pk>/summary.pdf", views.summary_pdf, name="pdf"),
    path("<id:discharge_pk>/addendum/", views.add_addendum, name="addendum"),
]
