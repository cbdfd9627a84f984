"""Urgent warning signs for Today: one query, whatever the size of the clinic."""

from __future__ import annotations

from typing import Any

from palpate.clinics.roles import CLINIC_MANAGE, CLINICAL_VIEW
from palpate.core.warning_signs import sign as warning_sign
from palpate.portal.models import WarningFlag

LIST_LIMIT = 25


def open_flags(actor: Any) -> list[WarningFlag]:
    """Open flags for the treating therapist; an owner sees every therapist's (someone must act today)."""
    if not actor.can(CLINICAL_VIEW):
        return []
    flags = WarningFlag.objects.filter(clinic=actor.clinic, acknowledged_at__isnull=True)
    if not actor.can(CLINIC_MANAGE):
        flags = flags.filter(therapist=actor.user)
    found = list(flags.select_related("patient", "therapist")
                 .only("id", "patient_id", "sign", "side", "urgency", "raised_at", "therapist_id", "check_in_id",
                       "patient__family_name", "patient__given_name", "therapist__first_name",
                       "therapist__last_name", "therapist__username")
                 .order_by("raised_at")[:LIST_LIMIT])
    for flag in found:
        item = warning_sign(flag.sign)
        flag.label = item.therapist_label  # type: ignore[attr-defined]
        flag.advice = item.advice  # type: ignore[attr-defined]
        flag.cited = item.cited()  # type: ignore[attr-defined]
    return found
