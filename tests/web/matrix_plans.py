"""Access-matrix rows for the plans app (see test_access.py).

Reviewing a plan for signing is open to everyone who writes clinical notes (an assistant sees why
they cannot sign); signing itself (POST) needs note.sign and is tested in test_plans.py.
"""

PATIENT_URLS = {
    "plans:create": ("/patients/{p}/plans/episodes/{e}/new/", True),
    "plans:detail": ("/patients/{p}/plans/{plan}/", False),
    "plans:edit": ("/patients/{p}/plans/{plan}/edit/", True),
    "plans:sign": ("/patients/{p}/plans/{plan}/sign/", True),
    "plans:handout": ("/patients/{p}/plans/{plan}/handout.pdf", False),
    "plans:pdf": ("/patients/{p}/plans/{plan}/plan.pdf", False),
}
