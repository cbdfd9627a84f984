"""The one door for API tokens and exports: who a bearer token acts as, and what it may do.

A token acts as its member (``ScopedActor``): the member's clinic, and at most what both the
member's role and the token's scope allow. An unknown, expired or revoked token, or one whose
member left the clinic, is refused with a reason the caller can act on (401); it never falls back
to anything else. Another clinic's export is a 404 like any other record.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field

from django.http import Http404
from django.utils import timezone

from palpate.clinics.actor import Actor
from palpate.clinics.roles import CLINICAL_VIEW, CLINICAL_WRITE, PATIENT_VIEW, PATIENT_WRITE
from palpate.interop.models import ApiToken, BulkExport, Scope

TOKEN_MARKER = "pal_"

# What each scope can ever allow, whatever the member's role. Signing, overriding a safety
# restriction, clinic settings and the audit log are never done with a token.
SCOPE_ACTIONS: dict[str, frozenset[str]] = {
    Scope.READ: frozenset({PATIENT_VIEW, CLINICAL_VIEW}),
    Scope.WRITE: frozenset({PATIENT_VIEW, CLINICAL_VIEW, PATIENT_WRITE, CLINICAL_WRITE}),
}

# How often a token's "last used" is written: every use is in the audit trail anyway, and writing
# the token row on every call would make concurrent calls queue on it.
LAST_USED_EVERY = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class ScopedActor(Actor):
    """A member acting through an API token: the role's permissions cut down to the token's scope."""

    token: ApiToken | None = field(default=None, compare=False)

    def can(self, action: str) -> bool:
        assert self.token is not None
        return action in SCOPE_ACTIONS[self.token.scope] and super().can(action)


class TokenRefused(Exception):
    """A bearer token that cannot be used; ``reason`` says why and what to do."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def digest_of(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def bearer_token(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer ...`` header; None when the header is not a bearer one."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip()


def authenticate_token(raw: str, ip_address: str | None = None) -> ScopedActor:
    """The actor a token stands for; ``TokenRefused`` for anything that is not a usable token."""
    if not raw.startswith(TOKEN_MARKER) or len(raw) > 200:
        raise TokenRefused("This is not a Palpate API token (they start with 'pal_'). Check the Authorization header.")
    token = (ApiToken.objects.select_related("clinic", "membership__user", "membership__clinic")
             .filter(digest=digest_of(raw)).first())
    if token is None:
        raise TokenRefused("Unknown API token. Ask a clinic owner for a new one.")
    now = timezone.now()
    if token.revoked_at is not None:
        raise TokenRefused(f"This API token was revoked on {token.revoked_at:%Y-%m-%d}. Ask a clinic owner for a new one.")
    if token.expires_at <= now:
        raise TokenRefused(f"This API token expired on {token.expires_at:%Y-%m-%d %H:%M} UTC. "
                           "Ask a clinic owner for a new one.")
    membership = token.membership
    if not membership.is_active or not membership.user.is_active or membership.clinic_id != token.clinic_id:
        raise TokenRefused("The member this API token acts for no longer belongs to the clinic. "
                           "Ask a clinic owner for a new one.")
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now, last_used_ip=ip_address)
    return ScopedActor(user=membership.user, clinic=membership.clinic, membership=membership, token=token)


def tokens_for(actor: Actor) -> list[ApiToken]:
    """The clinic's tokens, newest first, for the owners' page."""
    return list(ApiToken.objects.filter(clinic=actor.clinic).select_related("membership__user", "created_by",
                                                                               "revoked_by"))


def access_token(actor: Actor, pk: object) -> ApiToken:
    try:
        return ApiToken.objects.get(clinic=actor.clinic, pk=int(str(pk)))
    except (ApiToken.DoesNotExist, ValueError):
        raise Http404("No such token") from None


def access_export(actor: Actor, pk: object) -> BulkExport:
    """An export of the actor's clinic made by the same token (or, without a token, the same member)."""
    try:
        export = BulkExport.objects.get(clinic=actor.clinic, pk=int(str(pk)), deleted_at__isnull=True)
    except (BulkExport.DoesNotExist, ValueError, OverflowError):
        raise Http404("No such export") from None
    token = getattr(actor, "token", None)
    if token is not None:
        if export.token_id != token.pk:
            raise Http404("No such export")
    elif export.token_id is not None or export.membership_id != actor.membership.pk:
        raise Http404("No such export")
    return export
