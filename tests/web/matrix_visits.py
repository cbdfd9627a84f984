"""Access-matrix rows for the visits app (see test_access.py)."""

from tests.web.roles import CLINICAL_READERS, CLINICAL_WRITERS, THERAPISTS

PATIENT_URLS = {
    "visits:list": ("/patients/{p}/visits/", False),
    "visits:start": ("/patients/{p}/visits/start/{e}/", True),
    "visits:note": ("/patients/{p}/visits/{v}/", False),
    "visits:live": ("/patients/{p}/visits/{v}/live/", True),
    "visits:row": ("/patients/{p}/visits/{v}/row/", True),
    "visits:sign": ("/patients/{p}/visits/{v}/sign/", True),
    "visits:addendum": ("/patients/{p}/visits/{v}/addendum/", True),
    "visits:pdf": ("/patients/{p}/visits/{v}/note.pdf", False),
    "visits:void": ("/patients/{p}/visits/{v}/void/", True),
}

# GET: the roles that open each page (tests/web/roles.py); the others get a 403. The matrix's plan
# of care is an unsigned draft, so the assistant may not start a visit on its episode (with a
# signed plan they may: test_role_matrix.py).
ROLE_GET = {
    "visits:list": CLINICAL_READERS,
    "visits:start": THERAPISTS,
    "visits:note": CLINICAL_READERS,
    "visits:live": CLINICAL_WRITERS,
    "visits:row": CLINICAL_WRITERS,
    "visits:sign": CLINICAL_WRITERS,
    "visits:addendum": CLINICAL_WRITERS,
    "visits:pdf": CLINICAL_READERS,
    "visits:void": CLINICAL_WRITERS,
}
