"""The request a clinic member's view receives, typed (as healthchecks' ``hc/accounts/http.py``).

``ActiveClinicMiddleware`` sets ``actor`` and ``memberships`` on every request; a view behind
``member_required`` is only reached when ``actor`` is not None. Annotating such a view's request
as :class:`AuthenticatedHttpRequest` says so to the reader and to type checkers, instead of a
``# type: ignore`` at every ``request.actor``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest

from palpate.clinics.actor import Actor

if TYPE_CHECKING:
    from django_htmx.middleware import HtmxDetails

    from palpate.accounts.models import User
    from palpate.clinics.models import Membership


class AuthenticatedHttpRequest(HttpRequest):
    user: User
    actor: Actor
    memberships: list[Membership]
    htmx: HtmxDetails
