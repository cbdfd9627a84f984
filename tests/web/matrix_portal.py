"""Access-matrix rows for the staff pages about a patient's portal (see test_access.py).

The patient side (/portal/) has no staff door at all; its tenancy is tested in tests/portal/."""

from tests.web.roles import CLINICAL_READERS, CLINICAL_WRITERS, PATIENT_WRITERS

PATIENT_URLS = {
    "portal_staff:access": ("/patients/{p}/portal/access/", True),
    "portal_staff:flags": ("/patients/{p}/portal/warning-signs/", True),
    "portal_staff:check_ins": ("/patients/{p}/portal/check-ins/", False),
    "portal_staff:questionnaires": ("/patients/{p}/portal/questionnaires/", True),
}

# GET: the roles that open each page (tests/web/roles.py); the others get a 403. Inviting a patient
# to the portal is registration work (the front desk too); warning signs and questionnaires are
# clinical.
ROLE_GET = {
    "portal_staff:access": PATIENT_WRITERS,
    "portal_staff:flags": CLINICAL_WRITERS,
    "portal_staff:check_ins": CLINICAL_READERS,
    "portal_staff:questionnaires": CLINICAL_WRITERS,
}
