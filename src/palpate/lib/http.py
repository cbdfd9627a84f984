"""What code below the clinics may know about the member acting: the ``Acting`` protocol.

``palpate.clinics.actor.Actor`` is its one implementation, and apps above the clinics annotate
their views with ``palpate.clinics.http.AuthenticatedHttpRequest`` (``actor: Actor``). Code below
the clinics (this package's decorators, the audit trail) cannot import them, so it asks only for
what it uses: the user, the clinic and ``can(action)``.
"""

from __future__ import annotations

from typing import Any, Protocol

from django.http import HttpRequest


class Acting(Protocol):
    @property
    def user(self) -> Any: ...

    @property
    def clinic(self) -> Any: ...

    def can(self, action: str) -> bool: ...


class MemberRequest(HttpRequest):
    """A request that passed ``member_required``: ``actor`` is set (never None)."""

    actor: Acting
