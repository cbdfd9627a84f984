"""Access-matrix rows for the staff pages about a patient's portal (see test_access.py).

The patient side (/portal/) has no staff door at all; its tenancy is tested in tests/portal/."""

PATIENT_URLS = {
    "portal_staff:access": ("/patients/{p}/portal/access/", True),
    "portal_staff:flags": ("/patients/{p}/portal/warning-signs/", True),
    "portal_staff:check_ins": ("/patients/{p}/portal/check-ins/", False),
    "portal_staff:questionnaires": ("/patients/{p}/portal/questionnaires/", True),
}
