"""Sessions: how long one lasts, the list of a person's own, and ending them.

A session ends at whichever comes first: ``Clinic.idle_timeout_minutes`` without a request, the
absolute limit ``Clinic.session_max_hours`` after sign-in however active it was, signing out, or
the account's ``session_epoch`` moving on (sign out everywhere, a password change, a colleague
deactivated or their second factor reset). The cookie ends with the browser unless the person
chose "keep me signed in on this device"; then it lasts until the absolute limit.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.conf import settings
from django.contrib.auth import logout
from django.db.models import F, Q
from django.http import HttpRequest
from django.utils import timezone

from palpate.accounts.events import clinics_of
from palpate.accounts.models import SignedInSession, User
from palpate.lib.decorators import client_ip

SIGNED_IN_AT = "signed_in_at"  # session key: time.time() of the sign-in (the absolute limit counts from it)
LAST_SEEN = "last_seen"  # session key: time.time() of the last request (the idle limit counts from it)
RECORD = "signed_in_session"  # session key: the SignedInSession row's id
# Ended and expired rows are kept this long for the person's own list, then deleted at their next sign-in.
KEEP_ENDED_DAYS = 30


def _browser(request: HttpRequest) -> str:
    """The User-Agent as far as it can be stored (no NUL, which PostgreSQL refuses in text)."""
    return str(request.META.get("HTTP_USER_AGENT", "")).replace("\x00", "")[:200]


def limits_of(clinic: Any) -> tuple[int, int]:
    """(idle minutes, absolute hours) for a session working in ``clinic`` (None: no clinic yet)."""
    if clinic is None:
        return settings.PALPATE_DEFAULT_IDLE_MINUTES, settings.PALPATE_DEFAULT_SESSION_HOURS
    return clinic.idle_timeout_minutes, clinic.session_max_hours


def start_session(request: HttpRequest, user: User, *, remember: bool) -> SignedInSession:
    """Bookkeeping right after ``login()``: the cookie's life, the start time and the session's row."""
    # The strictest of the account's clinics: the clinic the person will work in is chosen later.
    hours = min((limits_of(clinic)[1] for clinic in clinics_of(user)), default=settings.PALPATE_DEFAULT_SESSION_HOURS)
    request.session.set_expiry(hours * 3600 if remember else 0)  # 0: the cookie ends with the browser
    now = timezone.now()
    request.session[SIGNED_IN_AT] = now.timestamp()
    request.session[LAST_SEEN] = now.timestamp()
    record = SignedInSession.objects.create(
        user=user, epoch=user.session_epoch, started_at=now, last_seen_at=now, ip_address=client_ip(request),
        user_agent=_browser(request), remember=remember)
    request.session[RECORD] = str(record.pk)
    SignedInSession.objects.filter(user=user).filter(
        Q(ended_at__lt=now - dt.timedelta(days=KEEP_ENDED_DAYS))
        | Q(last_seen_at__lt=now - dt.timedelta(days=KEEP_ENDED_DAYS))).delete()
    return record


def touch(request: HttpRequest, now: float) -> None:
    """The session was used (called at most every 30 s): its row's last-seen time follows."""
    seen = dt.datetime.fromtimestamp(now, tz=dt.UTC)
    record_id = request.session.get(RECORD)
    if record_id and SignedInSession.objects.filter(pk=record_id, ended_at__isnull=True).update(last_seen_at=seen):
        return
    # A session from before the list existed (or made without the sign-in page): list it from now on.
    user = request.user
    started = request.session.get(SIGNED_IN_AT, now)
    record = SignedInSession.objects.create(
        user=user, epoch=user.session_epoch,  # type: ignore[union-attr]
        started_at=dt.datetime.fromtimestamp(float(started), tz=dt.UTC), last_seen_at=seen,
        ip_address=client_ip(request), user_agent=_browser(request))
    request.session[RECORD] = str(record.pk)


def end_this_session(request: HttpRequest, reason: str) -> None:
    """Sign this browser out and mark its row ended."""
    record_id = request.session.get(RECORD)
    if record_id:
        SignedInSession.objects.filter(pk=record_id, ended_at__isnull=True).update(
            ended_at=timezone.now(), ended_reason=reason)
    logout(request)


def end_every_session(user: User, reason: str, *, keep: HttpRequest | None = None) -> None:
    """End every session of ``user`` on its next request; ``keep``: that request's session goes on.

    Call it inside the transaction of the change that causes it.
    """
    User.objects.filter(pk=user.pk).update(session_epoch=F("session_epoch") + 1)
    user.refresh_from_db(fields=["session_epoch"])
    others = SignedInSession.objects.filter(user=user, ended_at__isnull=True)
    kept = keep.session.get(RECORD) if keep is not None else None
    if kept:
        others = others.exclude(pk=kept)
        SignedInSession.objects.filter(pk=kept).update(epoch=user.session_epoch)
    others.update(ended_at=timezone.now(), ended_reason=reason)
    if keep is not None:
        # The session hash includes the epoch: give this session the new one (as after a password change).
        from django.contrib.auth import update_session_auth_hash

        update_session_auth_hash(keep, user)


def active_sessions(user: User, clinic: Any) -> list[SignedInSession]:
    """The person's sessions that may still be used, newest first (by the active clinic's limits)."""
    idle_minutes, hours = limits_of(clinic)
    now = timezone.now()
    return list(SignedInSession.objects.filter(
        user=user, ended_at__isnull=True, epoch=user.session_epoch,
        last_seen_at__gte=now - dt.timedelta(minutes=idle_minutes),
        started_at__gte=now - dt.timedelta(hours=hours)).order_by("-last_seen_at"))


def seconds_since(timestamp: object, now: float | None = None) -> float:
    return (now if now is not None else time.time()) - float(timestamp)  # type: ignore[arg-type]
