"""View decorators: signed in, a member of the active clinic, and allowed the action."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

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


def client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR")
