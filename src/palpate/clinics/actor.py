"""Who is acting, in which clinic, with which role: the context every access check needs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from palpate.clinics.roles import role_can

if TYPE_CHECKING:
    from palpate.accounts.models import User
    from palpate.clinics.models import Clinic, Membership


@dataclass(frozen=True)
class Actor:
    user: User
    clinic: Clinic
    membership: Membership

    @property
    def role(self) -> str:
        return self.membership.role

    def can(self, action: str) -> bool:
        return role_can(self.role, action)

    @classmethod
    def of(cls, membership: Membership) -> Actor:
        return cls(user=membership.user, clinic=membership.clinic, membership=membership)
