"""Access-matrix rows for the plans app (see test_access.py).

Planning is a therapist's: the assistant opens the plan and its PDFs but not the editor or the
sign review; signing itself (POST) needs note.sign and is tested in test_plans.py.
"""

from tests.web.roles import CLINICAL_READERS, THERAPISTS

PATIENT_URLS = {
    "plans:create": ("/patients/{p}/plans/episodes/{e}/new/", True),
    "plans:detail": ("/patients/{p}/plans/{plan}/", False),
    "plans:edit": ("/patients/{p}/plans/{plan}/edit/", True),
    "plans:sign": ("/patients/{p}/plans/{plan}/sign/", True),
    "plans:void": ("/patients/{p}/plans/{plan}/void/", True),
    "plans:addendum": ("/patients/{p}/plans/{plan}/addendum/", True),
    "plans:handout": ("/patients/{p}/plans/{plan}/handout.pdf", False),
    "plans:pdf": ("/patients/{p}/plans/{plan}/plan.pdf", False),
}

# GET: the roles that open each page (tests/web/roles.py); the others get a 403.
ROLE_GET = {
    "plans:create": THERAPISTS,
    "plans:detail": CLINICAL_READERS,
    "plans:edit": THERAPISTS,
    "plans:sign": THERAPISTS,
    "plans:void": THERAPISTS,
    "plans:addendum": THERAPISTS,
    "plans:handout": CLINICAL_READERS,
    "plans:pdf": CLINICAL_READERS,
}
