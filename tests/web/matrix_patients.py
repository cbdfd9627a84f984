"""Access-matrix rows for the patients app (see test_access.py and test_role_matrix.py)."""

from tests.web.roles import EVERYONE, PATIENT_WRITERS

PATIENT_URLS = {
    "patients:detail": ("/patients/{p}/", False),
    "patients:edit": ("/patients/{p}/edit/", True),
    "patients:episode_create": ("/patients/{p}/episodes/new/", True),
    "patients:episode_edit": ("/patients/{p}/episodes/{e}/edit/", True),
    "patients:episode_status": ("/patients/{p}/episodes/{e}/status/", True),
}
# GET: the roles that open each page (tests/web/roles.py); the others get a 403.
ROLE_GET = {
    "patients:detail": EVERYONE,
    "patients:edit": PATIENT_WRITERS,
    "patients:episode_create": PATIENT_WRITERS,
    "patients:episode_edit": PATIENT_WRITERS,
    "patients:episode_status": PATIENT_WRITERS,
}
API_PATIENT_URLS = {
    "api:get_patient": "/api/patients/{p}",
    "api:list_episodes": "/api/patients/{p}/episodes",
    # Same path, POST (tests/web/test_safety_web.py: another clinic's patient is a 404 there too).
    "api:create_episode": "/api/patients/{p}/episodes",
}
