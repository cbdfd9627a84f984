"""Clinic settings stored before their safe bounds existed, brought to the bound (planning policy §1.7).

Clinical policy version 2 gave every clinic-adjustable threshold a safe bound; the settings form
now refuses a value outside it. A clinic may still hold one saved earlier (a fever threshold of
39 °C). ``palpate prepare`` (run by ``palpate serve`` before anything else starts, and by every
deployment) calls :func:`do_bring_policies_to_bounds`: each such value becomes its nearest bound
(``core.policy.overrides_within_bounds``: an unknown or non-numeric setting, or one inconsistent
with another, is dropped and its default applies), and each clinic's change is one audit event in
that clinic's trail, ``clinic.policy_bounds``, with the old and new values and the reason per
setting. A clinic already within its bounds is not touched, so running it again changes nothing.

Why a service and not a data migration: the audit trail is keyed (HMAC, the key outside the
database) and written by ``audit.services.record_event`` against the live models; a migration
runs on historical models, possibly before the key exists, and could only write an unkeyed row
or none. Until the service has run, planning reads the values through the same function
(``lib.clinical.clinic_policy``), so it never fails for such a clinic and never plans looser than
the bound.

Lives in ``ops`` (operations: what runs at start-up and by the worker) because it writes to a
clinic and its trail, below which ``lib`` may not reach.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction

from palpate.audit.services import record_event
from palpate.clinics.models import Clinic
from palpate.core.policy import BoundChange, overrides_within_bounds


@dataclass(frozen=True)
class ClinicBrought:
    """One clinic whose stored settings were changed, and how."""

    clinic_id: int
    clinic_name: str
    changes: tuple[BoundChange, ...]

    def describe(self) -> str:
        parts = [f"{c.key} {c.stored!r} -> {'default' if c.now is None else f'{c.now:g}'} ({c.reason})"
                 for c in self.changes]
        return f"{self.clinic_name}: " + "; ".join(parts)


def check_policy_bounds(clinic: Clinic) -> tuple[dict[str, float], tuple[BoundChange, ...]]:
    """The clinic's stored settings within their bounds, and what that changes (nothing: ``()``)."""
    return overrides_within_bounds(clinic.policy_overrides or {})


def do_bring_policies_to_bounds() -> list[ClinicBrought]:
    """Bring every clinic's stored settings within their safe bounds, one audited change per clinic.

    Idempotent: a clinic within its bounds is neither written nor audited. Each clinic is its own
    transaction, its row locked while it is read and written (a settings save meanwhile waits).
    """
    brought: list[ClinicBrought] = []
    stored = Clinic.objects.order_by("pk").values_list("pk", "policy_overrides")
    for clinic_id in [pk for pk, overrides in stored if overrides and overrides_within_bounds(overrides)[1]]:
        with transaction.atomic():
            clinic = Clinic.objects.select_for_update(no_key=True).get(pk=clinic_id)
            within, changes = check_policy_bounds(clinic)
            if not changes:
                continue
            before: dict[str, Any] = dict(clinic.policy_overrides or {})
            clinic.policy_overrides = within
            clinic.save(update_fields=["policy_overrides"])
            record_event(actor=None, clinic=clinic, action="clinic.policy_bounds", obj=clinic,
                         old={"policy_overrides": before},
                         new={"policy_overrides": within,
                              "changes": [{"setting": c.key, "stored": c.stored, "now": c.now, "reason": c.reason}
                                          for c in changes]})
            brought.append(ClinicBrought(clinic.pk, clinic.name, changes))
    return brought
