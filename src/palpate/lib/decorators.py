"""View decorators: signed in, a member of the active clinic, and allowed the action."""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

View = Callable[..., HttpResponse]


def member_required(action: str | None = None) -> Callable[[View], View]:
    def decorate(view: View) -> View:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            actor = getattr(request, "actor", None)
            if actor is None:
                raise PermissionDenied("Your account is not a member of any clinic. Ask the clinic owner to add you.")
            if action is not None and not actor.can(action):
                raise PermissionDenied("Your role in this clinic does not allow this.")
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


def _address(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str | None:
    """The address the request came from, for the audit trail and the sign-in lockout.

    REMOTE_ADDR unless ``PALPATE_CLIENT_IP_HEADER`` names the header a trusted reverse proxy sets
    (``X-Forwarded-For``, ``X-Real-IP``): then its entry that the outermost of
    ``PALPATE_TRUSTED_PROXIES`` proxies wrote, counted from the right, because everything left of
    it came from the client and may be forged. A request without the header did not pass the
    proxy (a local health probe) and is taken at its REMOTE_ADDR.
    """
    header = getattr(settings, "PALPATE_CLIENT_IP_META", "")
    if header and (raw := request.META.get(header, "")):
        entries = [entry.strip() for entry in str(raw).split(",") if entry.strip()]
        proxies = getattr(settings, "PALPATE_TRUSTED_PROXIES", 1)
        if len(entries) >= proxies:
            return _address(entries[-proxies])
        return None  # fewer entries than proxies: not what our proxy sends; trust none of it
    return _address(request.META.get("REMOTE_ADDR", ""))
