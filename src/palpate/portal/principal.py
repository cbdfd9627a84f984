"""The patient acting, as the audit trail and the services below the portal see an actor.

``palpate.lib.http.Acting`` asks for ``user``, ``clinic`` and ``can``. A patient is not a staff
user: ``user`` here is a stand-in with no primary key (the trail's actor link stays empty) whose
name says who acted and how ("patient 000123 (portal)"), and ``can`` refuses every staff action.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PatientName:
    record_number: str
    via: str
    pk: None = None

    def get_username(self) -> str:
        return f"patient {self.record_number} ({self.via})"

    def display_name(self) -> str:
        return "the patient"


@dataclass(frozen=True)
class PatientActing:
    patient: Any
    clinic: Any
    via: str  # "portal" (signed in) or "link" (a one-off link)

    @property
    def user(self) -> PatientName:
        return PatientName(self.patient.record_number, self.via)

    def can(self, action: str) -> bool:
        return False  # no staff action, ever


def acting(patient: Any, via: str) -> PatientActing:
    return PatientActing(patient, patient.clinic, via)
