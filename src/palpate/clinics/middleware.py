"""Attach ``request.actor`` (user + active clinic + role) to every authenticated request.

The active clinic is kept in the session. A user who belongs to several clinics switches with
``POST /clinics/switch/``; a clinic the user no longer belongs to is silently dropped.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from palpate.accounts.middleware import has_device_expression
from palpate.clinics.actor import Actor
from palpate.clinics.models import Membership

SESSION_KEY = "active_clinic_id"


def memberships_of(user: object) -> list[Membership]:
    """The user's active memberships, each with ``has_second_factor`` (a confirmed authenticator)."""
    memberships = Membership.objects.filter(user=user, is_active=True).select_related("clinic", "user")
    if (has_device := has_device_expression()) is not None:
        memberships = memberships.annotate(has_second_factor=has_device)
    return list(memberships.order_by("clinic__name"))


class ActiveClinicMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        actor: Actor | None = None
        memberships: list[Membership] = []
        if request.user.is_authenticated:
            memberships = memberships_of(request.user)
            wanted = request.session.get(SESSION_KEY)
            chosen = next((m for m in memberships if m.clinic_id == wanted), None)
            if chosen is None and memberships:
                chosen = memberships[0]
                request.session[SESSION_KEY] = chosen.clinic_id
            if chosen is not None:
                actor = Actor.of(chosen)
        # The two attributes palpate.clinics.http.AuthenticatedHttpRequest declares, set here only.
        request.actor = actor  # type: ignore[attr-defined]
        request.memberships = memberships  # type: ignore[attr-defined]
        if memberships:  # read with them, for the two-factor check (palpate.accounts.middleware)
            request.has_second_factor = getattr(memberships[0], "has_second_factor", None)  # type: ignore[attr-defined]
        return self.get_response(request)
