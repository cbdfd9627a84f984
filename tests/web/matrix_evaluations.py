"""Access-matrix rows for the evaluations app (see test_access.py).

Write pages answer GET too (the form, the sign review, the status form, the htmx partials), so
the matrix checks that colleagues can open them and the read-only auditor cannot. Evaluating and
resolving referrals are a therapist's: the assistant opens none of those pages.
"""

from tests.web.roles import CLINICAL_READERS, THERAPISTS

PATIENT_URLS = {
    "evaluations:create": ("/patients/{p}/evaluations/episode/{e}/new/", True),
    "evaluations:check": ("/patients/{p}/evaluations/episode/{e}/check/", True),
    "evaluations:row": ("/patients/{p}/evaluations/rows/pain/", True),
    "evaluations:detail": ("/patients/{p}/evaluations/{ev}/", False),
    "evaluations:pdf": ("/patients/{p}/evaluations/{ev}/evaluation.pdf", False),
    "evaluations:edit": ("/patients/{p}/evaluations/{ev}/edit/", True),
    "evaluations:sign": ("/patients/{p}/evaluations/{ev}/sign/", True),
    "evaluations:void": ("/patients/{p}/evaluations/{ev}/void/", True),
    "evaluations:addendum": ("/patients/{p}/evaluations/{ev}/addendum/", True),
    "evaluations:referrals": ("/patients/{p}/evaluations/referrals/", False),
    "evaluations:referral_letter": ("/patients/{p}/evaluations/referrals/{r}/letter/", False),
    "evaluations:referral_pdf": ("/patients/{p}/evaluations/referrals/{r}/letter.pdf", False),
    "evaluations:referral_status": ("/patients/{p}/evaluations/referrals/{r}/status/", True),
}

# GET: the roles that open each page (tests/web/roles.py); the others get a 403.
ROLE_GET = {
    "evaluations:create": THERAPISTS,
    "evaluations:check": THERAPISTS,
    "evaluations:row": THERAPISTS,
    "evaluations:detail": CLINICAL_READERS,
    "evaluations:pdf": CLINICAL_READERS,
    "evaluations:edit": THERAPISTS,
    "evaluations:sign": THERAPISTS,
    "evaluations:void": THERAPISTS,
    "evaluations:addendum": THERAPISTS,
    "evaluations:referrals": CLINICAL_READERS,
    "evaluations:referral_letter": CLINICAL_READERS,
    "evaluations:referral_pdf": CLINICAL_READERS,
    "evaluations:referral_status": THERAPISTS,
}
