from django.urls import path

from palpate.outcomes import views

app_name = "outcomes"

# Mounted under /patients/<id:pk>/outcomes/ by palpate.web.urls: every view takes the patient pk.
urlpatterns = [
    path("episodes/<id:episode_pk>/", views.episode_outcomes, name="episode"),
    path("episodes/<id:episode_pk>/record/", views.choose_instrument, name="choose"),
    path("episodes/<id:episode_pk>/record/<slug:instrument>/", views.record_measure, name="record"),
    path("episodes/<id:episode_pk>/main-measure/", views.set_main_measure, name="main_measure"),
    path("episodes/<id:episode_pk>/report.pdf", views.progress_report, name="report"),
    path("<id:measurement_pk>/", views.measurement_detail, name="measurement"),
    path("wording/", views.licensed_wording, name="wording"),
    path("<id:measurement_pk>/void/", views.void_measurement, name="void"),
]
