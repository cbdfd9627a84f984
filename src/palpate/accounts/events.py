"""What happens to an account (sign-in, failures, lockout, sign-out, two-factor, password) in the trail.

Audit events belong to a clinic's chain, and an account may belong to several clinics or to none.
The rule: an account event is written once into the trail of **every clinic where the account has
an active membership**, because each of those clinics' owners answers for who reaches its data
(an owner of either clinic sees a colleague's lockout). An account with no active membership (a
deactivated member, an account whose invitation was withdrawn) has no trail to write to, and a
failed sign-in for a username that does not exist has no account at all: both go to the
``palpate.security`` log only (without the typed username, which is sometimes a password).

Which clinics an account belongs to is the clinics app's knowledge, a layer above this one: it
fills the :func:`set_clinics_of` slot when Django starts (``ClinicsConfig.ready``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.http import HttpRequest

from palpate.audit.services import record_event
from palpate.lib.decorators import client_ip

log = logging.getLogger("palpate.security")

ClinicsOf = Callable[[Any], list[Any]]


def _no_clinics(user: Any) -> list[Any]:
    return []


_clinics_of: ClinicsOf = _no_clinics


def set_clinics_of(function: ClinicsOf) -> None:
    """The clinics app says how to find an account's clinics (its active memberships' clinics)."""
    global _clinics_of
    _clinics_of = function


def clinics_of(user: Any) -> list[Any]:
    return _clinics_of(user)


@dataclass(frozen=True)
class AccountActor:
    """The account itself as the actor of its own events (``palpate.lib.http.Acting``)."""

    user: Any
    clinic: Any

    def can(self, action: str) -> bool:
        return False


def record_account_event(user: Any, action: str, request: HttpRequest | None = None, *,
                         detail: dict[str, Any] | None = None, clinics: Iterable[Any] | None = None) -> int:
    """Write ``action`` into the trail of every clinic of ``user`` (or of ``clinics``); returns how many.

    Call it inside the transaction of the change it records, when there is one; otherwise it
    makes its own.
    """
    targets = list(clinics if clinics is not None else clinics_of(user))
    address = client_ip(request) if request is not None else None
    log.info("account event", extra={"event": action, "user_id": getattr(user, "pk", None),
                                     "clinics": [c.pk for c in targets]})
    if not targets:
        return 0
    with transaction.atomic():
        for clinic in targets:
            record_event(actor=AccountActor(user, clinic), action=action, clinic=clinic, new=detail,
                         ip_address=address)
    return len(targets)


def log_unknown_account(action: str, request: HttpRequest | None = None) -> None:
    """A sign-in event with no account behind it: logged, never audited (there is no clinic)."""
    log.warning("sign-in event for an unknown account", extra={"event": action,
                                                               "ip": client_ip(request) if request else None})
