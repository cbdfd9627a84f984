"""Idle-session timeout and clinic-required two-factor sign-in."""

from __future__ import annotations

import functools
import operator
import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.db.models import BooleanField, Exists, Expression, ExpressionWrapper, OuterRef, Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode

LAST_SEEN_KEY = "last_seen"
# Refresh the timestamp at most this often, so a busy page does not write the session every hit.
TOUCH_EVERY_SECONDS = 30

EXEMPT_PREFIXES = ("/static/", "/accounts/login/", "/accounts/logout/", "/accounts/two-factor/", "/healthz")


def _redirect(request: HttpRequest, url: str) -> HttpResponse:
    if getattr(request, "htmx", False):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return HttpResponseRedirect(url)


class IdleTimeoutMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            actor = getattr(request, "actor", None)
            minutes = actor.clinic.idle_timeout_minutes if actor else settings.PALPATE_DEFAULT_IDLE_MINUTES
            now = time.time()
            last = request.session.get(LAST_SEEN_KEY)
            if last is not None and now - float(last) > minutes * 60:
                logout(request)
                messages.info(request, f"You were signed out after {minutes} minutes without activity.")
                if request.path.startswith("/api/"):
                    return HttpResponse('{"detail": "Session expired"}', status=401, content_type="application/json")
                return _redirect(request, f"{settings.LOGIN_URL}?{urlencode({'next': request.get_full_path()})}")
            if last is None or now - float(last) > TOUCH_EVERY_SECONDS:
                request.session[LAST_SEEN_KEY] = now
        return self.get_response(request)


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
