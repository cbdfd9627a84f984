from django.urls import path

from palpate.ops import views

app_name = "ops"

urlpatterns = [
    path("health/", views.health, name="health"),
    path("health/backup/", views.backup_now, name="backup_now"),
]
