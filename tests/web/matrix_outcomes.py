"""Access-matrix rows for the outcomes app (see test_access.py)."""

from django.urls import NoReverseMatch, reverse

PATIENT_URLS = {
    "outcomes:episode": ("/patients/{p}/outcomes/episodes/{e}/", False),
    "outcomes:choose": ("/patients/{p}/outcomes/episodes/{e}/record/", True),
    "outcomes:record": ("/patients/{p}/outcomes/episodes/{e}/record/odi/", True),
    "outcomes:main_measure": ("/patients/{p}/outcomes/episodes/{e}/main-measure/", True),
    "outcomes:report": ("/patients/{p}/outcomes/episodes/{e}/report.pdf", False),
    "outcomes:measurement": ("/patients/{p}/outcomes/{m}/", False),
    # Reading which wording the clinic holds is open to clinical staff; loading it (POST) is for
    # owners only and is tested in test_outcomes_wording.py.
    "outcomes:wording": ("/patients/{p}/outcomes/wording/", False),
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
