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
# Document treatment: visit notes and outcome measures.
CLINICAL_WRITE = "clinical.write"
# Evaluate and plan: the therapist's work an assistant treats under (README, "Roles").
EVALUATION_WRITE = "evaluation.write"
PLAN_WRITE = "plan.write"
# Change a referral's status: answered or cleared lifts the hold it put on treatment.
REFERRAL_RESOLVE = "referral.resolve"
# Document a visit on an episode whose plan of care is not signed yet (a therapist's judgement);
# without it a visit needs the episode's signed plan.
VISIT_WITHOUT_SIGNED_PLAN = "visit.without_signed_plan"
NOTE_SIGN = "note.sign"
SAFETY_OVERRIDE = "safety.override"
# AUDIT_VIEW ("audit.view") and AUDIT_EXPORT ("audit.export": exports and signed checkpoints)
# are declared by palpate.audit, below the clinics.
CLINIC_MANAGE = "clinic.manage"
# Invite colleagues, change their roles, deactivate them, reset their second factor.
STAFF_MANAGE = "staff.manage"

THERAPIST_ACTIONS = frozenset(
    {PATIENT_VIEW, PATIENT_WRITE, CLINICAL_VIEW, CLINICAL_WRITE, EVALUATION_WRITE, PLAN_WRITE, REFERRAL_RESOLVE,
     VISIT_WITHOUT_SIGNED_PLAN, NOTE_SIGN, SAFETY_OVERRIDE}
)
ALL_ACTIONS = THERAPIST_ACTIONS | {AUDIT_VIEW, AUDIT_EXPORT, CLINIC_MANAGE, STAFF_MANAGE}

PERMISSIONS: dict[str, frozenset[str]] = {
    Role.OWNER: ALL_ACTIONS,
    Role.THERAPIST: THERAPIST_ACTIONS,
    # Assistants treat under a therapist's signed plan: they document visits (and the outcome
    # measures taken at them) and nothing more: no evaluations, no plans of care, no visit on an
    # episode without a signed plan, no change to a referral, no signature, no override.
    Role.ASSISTANT: frozenset({PATIENT_VIEW, PATIENT_WRITE, CLINICAL_VIEW, CLINICAL_WRITE}),
    # Front desk registers patients and episodes; no clinical notes.
    Role.FRONT_DESK: frozenset({PATIENT_VIEW, PATIENT_WRITE}),
    # Auditors read everything a chart holds plus the audit log, and change nothing.
    Role.AUDITOR: frozenset({PATIENT_VIEW, CLINICAL_VIEW, AUDIT_VIEW}),
}


def role_can(role: str, action: str) -> bool:
    return action in PERMISSIONS.get(role, frozenset())
