"""Writes to clinic settings: owners only, audited with old and new values."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction

from palpate.audit.diff import changed, snapshot
from palpate.audit.services import record_event
from palpate.clinics.actor import Actor
from palpate.clinics.models import Clinic
from palpate.clinics.roles import CLINIC_MANAGE

SETTINGS_FIELDS = ["name", "address", "phone", "idle_timeout_minutes", "session_max_hours", "require_two_factor",
                   "payer_unit_rule", "policy_overrides"]


def check_can_manage(actor: Actor) -> None:
    if not actor.can(CLINIC_MANAGE):
        raise PermissionDenied("Only the clinic's owner can change its settings.")


def do_update_settings(actor: Actor, clinic: Clinic, before: dict[str, Any], *, password_confirmed: bool = False
                       ) -> Clinic:
    """Save the settings; ``password_confirmed``: the owner typed their password again (two-factor off)."""
    check_can_manage(actor)
    if before.get("require_two_factor") and not clinic.require_two_factor and not password_confirmed:
        raise PermissionDenied("Turning off required two-factor sign-in needs the owner's password again.")
    with transaction.atomic():
        clinic.save()
        old, new = changed(before, snapshot(clinic, SETTINGS_FIELDS))
        if new:
            if password_confirmed:
                new["password_confirmed"] = True
            record_event(actor=actor, action="clinic.settings", obj=clinic, old=old, new=new)
    return clinic
