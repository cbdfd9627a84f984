"""Access-matrix rows for the discharge app (see test_access.py and test_role_matrix.py).

Everyone who reads the clinical record opens the discharge page (read-only unless a therapist) and
its PDF; the addendum page is for those who document (signing one needs note.sign: test_discharge.py).
"""

from tests.web.roles import CLINICAL_READERS, CLINICAL_WRITERS

PATIENT_URLS = {
    "discharge:episode": ("/patients/{p}/discharge/episode/{e}/", False),  # a read for all; POST: test_discharge.py
    "discharge:pdf": ("/patients/{p}/discharge/{dis}/summary.pdf", False),
    "discharge:addendum": ("/patients/{p}/discharge/{dis}/addendum/", True),
}
ROLE_GET = {
    "discharge:episode": CLINICAL_READERS,
    "discharge:pdf": CLINICAL_READERS,
    "discharge:addendum": CLINICAL_WRITERS,
}
