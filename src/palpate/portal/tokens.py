"""One-off links: signed, single-purpose, expiring, stored hashed, usable once.

A link's token is 32 random bytes; the URL carries it signed with the site's secret and a salt per
purpose (``TimestampSigner``-free: expiry is the database's, so a clinic can end a link early). The
database keeps only the token's SHA-256. Opening a link:

1. the signature is checked for the link's purpose: an altered or truncated link, or a check-in
   link pasted into the questionnaire page, fails here (``altered``), before any query;
2. the row is found by the token's hash and the hashes compared in constant time (``unknown``);
3. ``expired`` and ``used`` links are refused with a page that says so and what to do.

Opening a link never uses it up (mail scanners open links before people do); the action it is for
does, with a conditional update, so a link is used exactly once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from palpate.portal.models import AccessLink, LinkPurpose

TOKEN_BYTES = 32
URL_NAMES = {LinkPurpose.INVITE: "portal:welcome", LinkPurpose.CHECK_IN: "portal:check_in_link",
             LinkPurpose.QUESTIONNAIRE: "portal:questionnaire_link"}


def _signer(purpose: str) -> signing.Signer:
    return signing.Signer(salt=f"palpate.portal.link.{purpose}")


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def new_link(*, clinic: Any, patient: Any, purpose: str, valid_days: int, target_id: int | None = None,
             created_by: Any = None, now: dt.datetime | None = None) -> tuple[AccessLink, str]:
    """Create a link (caller's transaction) and return it with its signed token (never stored)."""
    now = now or timezone.now()
    raw = secrets.token_urlsafe(TOKEN_BYTES)
    link = AccessLink.objects.create(clinic=clinic, patient=patient, purpose=purpose, token_hash=token_hash(raw),
                                     target_id=target_id, created_by=created_by, created_at=now,
                                     expires_at=now + dt.timedelta(days=valid_days))
    return link, _signer(purpose).sign(raw)


def link_url(purpose: str, signed_token: str) -> str:
    return settings.PALPATE_BASE_URL + reverse(URL_NAMES[LinkPurpose(purpose)], args=[signed_token])


@dataclass(frozen=True)
class Opened:
    status: str  # ok | altered | unknown | expired | used
    link: AccessLink | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def open_link(purpose: str, signed_token: str, now: dt.datetime | None = None) -> Opened:
    try:
        raw = _signer(purpose).unsign(signed_token)
    except signing.BadSignature:
        return Opened("altered")
    digest = token_hash(raw)
    link = (AccessLink.objects.select_related("patient", "patient__clinic", "clinic")
            .filter(token_hash=digest, purpose=purpose).first())
    if link is None or not hmac.compare_digest(link.token_hash, digest):
        return Opened("unknown")
    if link.used_at is not None:
        return Opened("used", link)
    if link.expires_at <= (now or timezone.now()):
        return Opened("expired", link)
    return Opened("ok", link)


def use_link(link: AccessLink, now: dt.datetime | None = None) -> bool:
    """Mark the link used (in the caller's transaction); False if it was used meanwhile or expired."""
    now = now or timezone.now()
    return AccessLink.objects.filter(pk=link.pk, used_at__isnull=True, expires_at__gt=now).update(used_at=now) == 1
