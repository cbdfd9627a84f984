from django.urls import path

from palpate.patients import views

app_name = "patients"

urlpatterns = [
    path("", views.patient_list, name="list"),
    path("new/", views.patient_create, name="create"),
    path("<id:pk>/", views.patient_detail, name="detail"),
    path("<id:pk>/edit/", views.patient_edit, name="edit"),
    path("<id:pk>/episodes/new/", views.episode_create, name="episode_create"),
    path("<id:pk>/episodes/<id:episode_pk>/edit/", views.episode_edit, name="episode_edit"),
    path("<id:pk>/episodes/<id:episode_pk>/status/", views.episode_status, name="episode_status"),
]
