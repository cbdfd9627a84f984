"""Session limits (idle and absolute) and clinic-required two-factor sign-in."""

from __future__ import annotations

import functools
import operator
import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.db.models import BooleanField, Exists, Expression, ExpressionWrapper, OuterRef, Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode

from palpate.accounts import sessions
from palpate.accounts.events import record_account_event

# Refresh the timestamp at most this often, so a busy page does not write the session every hit.
TOUCH_EVERY_SECONDS = 30
LAST_SEEN_KEY = sessions.LAST_SEEN

EXEMPT_PREFIXES = ("/static/", "/accounts/login/", "/accounts/logout/", "/accounts/two-factor/", "/healthz")


def _redirect(request: HttpRequest, url: str) -> HttpResponse:
    if getattr(request, "htmx", False):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return HttpResponseRedirect(url)


class SessionLimitsMiddleware:
    """Ends a session idle for longer than the clinic allows, or older than its absolute limit."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            actor = getattr(request, "actor", None)
            minutes, hours = sessions.limits_of(actor.clinic if actor else None)
            now = time.time()
            started = request.session.get(sessions.SIGNED_IN_AT)
            last = request.session.get(LAST_SEEN_KEY)
            if started is None:
                # Made without the sign-in page (or before the limit existed): it counts from now.
                request.session[sessions.SIGNED_IN_AT] = now
            elif sessions.seconds_since(started, now) > hours * 3600:
                return self._end(request, "absolute limit",
                                 f"You were signed out: sessions end {hours} hours after signing in. Sign in again.")
            if last is not None and sessions.seconds_since(last, now) > minutes * 60:
                return self._end(request, "idle", f"You were signed out after {minutes} minutes without activity.")
            if last is None or sessions.seconds_since(last, now) > TOUCH_EVERY_SECONDS:
                request.session[LAST_SEEN_KEY] = now
                sessions.touch(request, now)
        return self.get_response(request)

    def _end(self, request: HttpRequest, reason: str, message: str) -> HttpResponse:
        record_account_event(request.user, "account.session_ended", request, detail={"reason": reason})
        sessions.end_this_session(request, reason)
        messages.info(request, message)
        if request.path.startswith("/api/"):
            return HttpResponse('{"detail": "Session expired"}', status=401, content_type="application/json")
        return _redirect(request, f"{settings.LOGIN_URL}?{urlencode({'next': request.get_full_path()})}")


@functools.cache
def has_device_expression(user_field: str = "user_id") -> Expression | None:
    """``Exists(a confirmed authenticator of the user in user_field)`` for another query to annotate
    (the clinics middleware reads the memberships with it: one query fewer on every request)."""
    from django_otp import device_classes

    checks = [Exists(model.objects.filter(user_id=OuterRef(user_field), confirmed=True))
              for model in device_classes()]
    if not checks:
        return None
    return checks[0] if len(checks) == 1 else ExpressionWrapper(
        functools.reduce(operator.or_, [Q(check) for check in checks]), output_field=BooleanField())


def needs_second_factor(request: HttpRequest) -> bool:
    user = request.user
    if not user.is_authenticated or user.is_verified():  # type: ignore[union-attr]
        return False
    actor = getattr(request, "actor", None)
    if actor is not None and actor.clinic.require_two_factor:
        return True
    # Read with the memberships when there are any (palpate.clinics.middleware); asked here otherwise.
    has_device = getattr(request, "has_second_factor", None)
    if has_device is None:
        from django_otp import user_has_device

        has_device = user_has_device(user, confirmed=True)
    return bool(has_device)


class RequireTwoFactorMiddleware:
    """A user with an authenticator, or in a clinic that requires one, must pass TOTP first."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(EXEMPT_PREFIXES) and needs_second_factor(request):
            if request.path.startswith("/api/"):
                return HttpResponse('{"detail": "Two-factor sign-in required"}', status=401, content_type="application/json")
            return _redirect(request, reverse("accounts:two_factor") + "?" + urlencode({"next": request.get_full_path()}))
        return self.get_response(request)
