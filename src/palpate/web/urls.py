from django.urls import include, path

from palpate.web import views
from palpate.web.api import api

urlpatterns = [
    path("", views.today, name="today"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/", include("palpate.accounts.urls")),
    path("clinics/", include("palpate.clinics.urls")),
    path("patients/", include("palpate.patients.urls")),
    path("audit/", include("palpate.audit.urls")),
    path("api/", api.urls),
]

handler403 = "palpate.web.errors.forbidden"
handler404 = "palpate.web.errors.not_found"
