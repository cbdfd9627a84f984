"""Access-matrix rows for the outcomes app (see test_access.py)."""

from django.urls import NoReverseMatch, reverse

from tests.web.roles import CLINICAL_READERS, CLINICAL_WRITERS

PATIENT_URLS = {
    "outcomes:episode": ("/patients/{p}/outcomes/episodes/{e}/", False),
    "outcomes:choose": ("/patients/{p}/outcomes/episodes/{e}/record/", True),
    "outcomes:record": ("/patients/{p}/outcomes/episodes/{e}/record/odi/", True),
    "outcomes:main_measure": ("/patients/{p}/outcomes/episodes/{e}/main-measure/", True),
    "outcomes:report": ("/patients/{p}/outcomes/episodes/{e}/report.pdf", False),
    "outcomes:measurement": ("/patients/{p}/outcomes/{m}/", False),
    "outcomes:void": ("/patients/{p}/outcomes/{m}/void/", True),
    # Reading which wording the clinic holds is open to clinical staff; loading it (POST) is for
    # owners only and is tested in test_outcomes_wording.py.
    "outcomes:wording": ("/patients/{p}/outcomes/wording/", False),
}

# GET: the roles that open each page (tests/web/roles.py); the others get a 403.
ROLE_GET = {
    "outcomes:episode": CLINICAL_READERS,
    "outcomes:choose": CLINICAL_WRITERS,
    "outcomes:record": CLINICAL_WRITERS,
    "outcomes:main_measure": CLINICAL_WRITERS,
    "outcomes:report": CLINICAL_READERS,
    "outcomes:measurement": CLINICAL_READERS,
    "outcomes:void": CLINICAL_WRITERS,
    "outcomes:wording": CLINICAL_READERS,
}


def _api_registered() -> bool:
    # palpate.web.api registers the outcomes router (palpate.outcomes.api); until it does, the
    # endpoint does not exist and has no row here.
    try:
        reverse("api:list_patient_outcomes", kwargs={"patient_id": 1})
    except NoReverseMatch:
        return False
    return True


API_PATIENT_URLS = {"api:list_patient_outcomes": "/api/patients/{p}/outcomes"} if _api_registered() else {}
