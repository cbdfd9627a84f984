"""Roles per clinic membership and the one permission matrix every view and API checks.

A role grants a set of actions. Views ask ``actor.can(action)``; they never compare role names.
"""

from __future__ import annotations

from django.db import models

from palpate.audit.permissions import AUDIT_EXPORT as AUDIT_EXPORT
from palpate.audit.permissions import AUDIT_VIEW as AUDIT_VIEW


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    THERAPIST = "therapist", "Therapist"
    ASSISTANT = "assistant", "Therapist assistant"
    FRONT_DESK = "front_desk", "Front desk"
    AUDITOR = "auditor", "Auditor (read-only)"


# Actions, named <object>.<verb>.
PATIENT_VIEW = "patient.view"
PATIENT_WRITE = "patient.write"
CLINICAL_VIEW = "clinical.view"
CLINICAL_WRITE = "clinical.write"
NOTE_SIGN = "note.sign"
SAFETY_OVERRIDE = "safety.override"
# AUDIT_VIEW ("audit.view") and AUDIT_EXPORT ("audit.export": exports and signed checkpoints)
# are declared by palpate.audit, below the clinics.
CLINIC_MANAGE = "clinic.manage"

ALL_ACTIONS = frozenset(
    {PATIENT_VIEW, PATIENT_WRITE, CLINICAL_VIEW, CLINICAL_WRITE, NOTE_SIGN, SAFETY_OVERRIDE, AUDIT_VIEW, AUDIT_EXPORT,
     CLINIC_MANAGE}
)

PERMISSIONS: dict[str, frozenset[str]] = {
    Role.OWNER: ALL_ACTIONS,
    Role.THERAPIST: frozenset(
        {PATIENT_VIEW, PATIENT_WRITE, CLINICAL_VIEW, CLINICAL_WRITE, NOTE_SIGN, SAFETY_OVERRIDE}
    ),
    # Assistants treat under a therapist's plan: they document visits but do not sign plans of
    # care or override safety restrictions.
    Role.ASSISTANT: frozenset({PATIENT_VIEW, PATIENT_WRITE, CLINICAL_VIEW, CLINICAL_WRITE}),
    # Front desk registers patients and episodes; no clinical notes.
    Role.FRONT_DESK: frozenset({PATIENT_VIEW, PATIENT_WRITE}),
    # Auditors read everything a chart holds plus the audit log, and change nothing.
    Role.AUDITOR: frozenset({PATIENT_VIEW, CLINICAL_VIEW, AUDIT_VIEW}),
}


def role_can(role: str, action: str) -> bool:
    return action in PERMISSIONS.get(role, frozenset())
