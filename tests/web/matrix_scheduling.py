"""Access-matrix rows for the scheduling app's patient pages and API (see test_access.py).

The appointment pages under /schedule/ are not patient URLs; tests/scheduling/test_pages.py holds
their own matrix (another clinic's appointment is a 404, read-only roles get a 403 on writes).
"""

from tests.web.roles import EVERYONE, PATIENT_WRITERS

PATIENT_URLS = {
    "patient_schedule:list": ("/patients/{p}/schedule/", False),
    "patient_schedule:book_series": ("/patients/{p}/schedule/plans/{plan}/book/", True),
    "patient_schedule:authorization": ("/patients/{p}/schedule/episodes/{e}/authorizations/new/", True),
}

API_PATIENT_URLS = {
    "api:patient_appointments": "/api/patients/{p}/appointments",
    "api:patient_authorizations": "/api/patients/{p}/authorizations",
}
API_PATIENT_URLS["api:patient_authorization_add"] = "/api/patients/{p}/authorizations"  # POST; GET reads the same path

# GET: the roles that open each page (tests/web/roles.py); the others get a 403. The schedule is
# the front desk's work as much as the therapist's; the auditor reads it.
ROLE_GET = {
    "patient_schedule:list": EVERYONE,
    "patient_schedule:book_series": PATIENT_WRITERS,
    "patient_schedule:authorization": PATIENT_WRITERS,
}
