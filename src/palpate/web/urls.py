from django.urls import include, path, register_converter

from palpate.interop.urls import fhir_patterns
from palpate.lib.converters import IdConverter
from palpate.ops import views as ops_views
from palpate.portal import staff_views as portal_staff_views
from palpate.today.views import today
from palpate.web.api import api

register_converter(IdConverter, "id")

urlpatterns = [
    path("", today, name="today"),
    # Probes: /healthz the process only (no database), /readyz the database, worker and disk.
    path("healthz", ops_views.healthz, name="healthz"),
    path("readyz", ops_views.readyz, name="readyz"),
    path("ops/", include("palpate.ops.urls")),
    path("accounts/", include("palpate.accounts.urls")),
    path("clinics/portal/", portal_staff_views.clinic_settings, name="portal_settings"),
    path("clinics/", include("palpate.clinics.urls")),
    path("patients/", include("palpate.patients.urls")),
    # Clinical records hang off the patient: the patient door is checked before anything else.
    path("patients/<id:pk>/evaluations/", include("palpate.evaluations.urls")),
    path("patients/<id:pk>/plans/", include("palpate.plans.urls")),
    path("patients/<id:pk>/visits/", include("palpate.visits.urls")),
    path("patients/<id:pk>/outcomes/", include("palpate.outcomes.urls")),
    path("patients/<id:pk>/discharge/", include("palpate.discharge.urls")),
    path("patients/<id:pk>/schedule/", include("palpate.scheduling.patient_urls")),
    path("schedule/", include("palpate.scheduling.urls")),
    path("patients/<id:pk>/portal/", include("palpate.portal.staff_urls")),
    # The patient side: its own sign-in and session cookie; no staff page is under it.
    path("portal/", include("palpate.portal.urls")),
    path("audit/", include("palpate.audit.urls")),
    path("api/", api.urls),
    # The FHIR R4 API (palpate.interop) and the owners' page for API tokens.
    path("fhir/R4/", include((fhir_patterns, "fhir"))),
    path("interop/", include("palpate.interop.urls")),
]

handler403 = "palpate.web.errors.forbidden"
handler404 = "palpate.web.errors.not_found"
