from django.urls import path

from palpate.scheduling import views

app_name = "patient_schedule"

# Mounted under /patients/<id:pk>/schedule/ by palpate.web.urls: every view takes the patient pk.
urlpatterns = [
    path("", views.patient_schedule, name="list"),
    path("plans/<id:plan_pk>/book/", views.book_series, name="book_series"),
    path("episodes/<id:episode_pk>/authorizations/new/", views.add_authorization, name="authorization"),
]
