"""What every resource builder needs for one request or export: who asks, where the server is,
and which patients the answer names (for the one audit row per request)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from palpate.clinics.actor import Actor
from palpate.interop.fhir.errors import forbidden


@dataclass
class Context:
    actor: Actor
    base: str  # the absolute URL of /fhir/R4 (no trailing slash)
    patients: set[int] = field(default_factory=set)
    # Rows several resources refer to, read once per request (practitioner names, questionnaires ...).
    cache: dict[Any, Any] = field(default_factory=dict)

    @property
    def clinic(self) -> Any:
        return self.actor.clinic

    @property
    def clinic_id(self) -> int:
        return int(self.actor.clinic.pk)

    def may(self, action: str) -> bool:
        return self.actor.can(action)

    def require(self, action: str, what: str) -> None:
        if not self.may(action):
            raise forbidden(f"Your role (or your token's scope) does not allow reading {what}.")

    def saw(self, patient_id: int | None) -> None:
        if patient_id is not None:
            self.patients.add(int(patient_id))

    def url(self, path: str) -> str:
        return f"{self.base}/{path}"
