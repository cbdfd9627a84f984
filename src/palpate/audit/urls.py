from django.urls import path

from palpate.audit import views

app_name = "audit"

urlpatterns = [
    path("", views.audit_log, name="log"),
    path("export/", views.export, name="export"),
    path("checkpoint/", views.checkpoint, name="checkpoint"),
]
