from django.urls import path

from palpate.patients import views

app_name = "patients"

urlpatterns = [
    path("", views.patient_list, name="list"),
    path("new/", views.patient_create, name="create"),
    path("<int:pk>/", views.patient_detail, name="detail"),
    path("<int:pk>/edit/", views.patient_edit, name="edit"),
    path("<int:pk>/episodes/new/", views.episode_create, name="episode_create"),
    path("<int:pk>/episodes/<int:episode_pk>/edit/", views.episode_edit, name="episode_edit"),
]
