"""Who may open what: the role sets the access matrices (``matrix_*.py``, ``ROLE_GET``) are written in.

A page's row names the roles that open it (200); every other role of the clinic gets a 403. The
personas: Olivia owner, Alice therapist, Bob assistant, Fran front desk, Aubrey auditor.
"""

from __future__ import annotations

OWNER, THERAPIST, ASSISTANT, FRONT_DESK, AUDITOR = "owner", "therapist", "assistant", "front_desk", "auditor"
PERSONA = {OWNER: "olivia", THERAPIST: "alice", ASSISTANT: "bob", FRONT_DESK: "fran", AUDITOR: "aubrey"}

EVERYONE = frozenset(PERSONA)
# Register and correct patients and episodes: everyone but the read-only auditor.
PATIENT_WRITERS = EVERYONE - {AUDITOR}
# Clinical records are for clinical staff and the auditor, not the front desk.
CLINICAL_READERS = EVERYONE - {FRONT_DESK}
# Document treatment (visit notes, outcome measures): the assistant too.
CLINICAL_WRITERS = frozenset({OWNER, THERAPIST, ASSISTANT})
# Evaluate, plan, resolve referrals, and document without a signed plan: therapists (and owners).
THERAPISTS = frozenset({OWNER, THERAPIST})
