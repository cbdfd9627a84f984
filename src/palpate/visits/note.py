"""A visit note as typed: plain values and rows, the one shape from the form to the model.

The note form produces a :class:`NoteInput` (so does the demo, or any later API); the services
check and save it (``services.check_visit_note`` and ``services.do_save_visit_note``). A treatment
row is a :class:`Treatment` from the moment it is read from the form until it is a
``TreatmentRow`` in the database and back: the safety rule sees it as an item
(:meth:`Treatment.item`), billing as a service (:meth:`Treatment.service`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from palpate.core.billing import VisitService
from palpate.lib.vocabulary import label, where

# The SOAP fields of the note, as the model names them.
NOTE_FIELDS = ("subjective", "soreness_since_last", "soreness_hours", "relief", "objective", "nprs_before",
               "nprs_after", "assessment", "plan_text")


@dataclass(frozen=True)
class Treatment:
    """One row of soft-tissue work: what, where, how hard, how long, and how the tissue responded.

    ``override_reason`` is what the therapist typed to keep the row despite a restriction; it is
    not stored on the row but, when the override is allowed, on the visit's overrides.
    """

    technique: str
    region: str
    side: str
    pressure: str
    minutes: int
    response: str = ""
    override_reason: str = ""

    def item(self) -> dict[str, Any]:
        """As ``core.safety`` checks it."""
        return {"technique": self.technique, "region": self.region, "side": self.side or None,
                "pressure": self.pressure}

    def service(self) -> VisitService:
        """As ``core.billing.bill_visit`` bills it."""
        return VisitService(self.technique, self.minutes, f"{label(self.technique)} {self.where}".strip())

    @property
    def where(self) -> str:
        return where(self.region, self.side or None)

    def stored(self) -> dict[str, Any]:
        """The row as it is stored (and audited): without the typed override reason."""
        return {"technique": self.technique, "region": self.region, "side": self.side, "pressure": self.pressure,
                "minutes": self.minutes, "response": self.response}

    def without_reason(self) -> Treatment:
        return replace(self, override_reason="")

    @classmethod
    def of(cls, row: Any) -> Treatment:
        """From a stored ``TreatmentRow``."""
        return cls(row.technique, row.region, row.side, row.pressure, row.minutes, row.response)


@dataclass(frozen=True)
class Complementary:
    """A complementary therapy delivered today; 0 minutes: planned, not delivered (not billed).

    It is applied at the episode's region and side (the condition it treats), where ``core.safety``
    checks it like a treatment row; ``override_reason`` as for a treatment row.
    """

    therapy: str
    minutes: int = 0
    notes: str = ""
    override_reason: str = ""

    def item(self, region: str, side: str | None) -> dict[str, Any]:
        """As ``core.safety`` checks it, at the episode's place."""
        return {"therapy": self.therapy, "region": region, "side": side or None}

    def service(self) -> VisitService:
        return VisitService(self.therapy, self.minutes, label(self.therapy))

    def stored(self) -> dict[str, Any]:
        return {"therapy": self.therapy, "minutes": self.minutes, "notes": self.notes}

    def without_reason(self) -> Complementary:
        return replace(self, override_reason="")

    @classmethod
    def of(cls, row: Any) -> Complementary:
        return cls(row.therapy, row.minutes, row.notes)


@dataclass(frozen=True)
class NoteInput:
    """The note as typed. Findings, vitals and range of motion are in the clinical core's request shapes:

    - ``findings``: ``[{"code", "region"?, "side"?, "days_ago"?, "closed"?, "cleared"?}]``
    - ``vitals``: ``{"temperature_c"?, "bp_systolic"?, "bp_diastolic"?}``
    - ``rom``: ``[{"joint", "motion", "side"?, "degrees"}]``
    """

    subjective: str = ""
    soreness_since_last: int | None = None
    soreness_hours: int | None = None
    relief: str = ""
    objective: str = ""
    nprs_before: int | None = None
    nprs_after: int | None = None
    assessment: str = ""
    plan_text: str = ""
    findings: list[dict[str, Any]] = field(default_factory=list)
    vitals: dict[str, Any] = field(default_factory=dict)
    rom: list[dict[str, Any]] = field(default_factory=list)
    treatments: list[Treatment] = field(default_factory=list)
    complementary: list[Complementary] = field(default_factory=list)
    # Carried-forward rows the therapist puts back after the last session's response changed them:
    # the carried row's position -> the reason (``visits.carry``).
    put_back: dict[int, str] = field(default_factory=dict)

    def values(self) -> dict[str, Any]:
        """The visit's own fields this note sets (its rows aside)."""
        return {**{name: getattr(self, name) for name in NOTE_FIELDS}, "findings": list(self.findings),
                "vitals": dict(self.vitals), "rom": list(self.rom)}

    @classmethod
    def of(cls, visit: Any) -> NoteInput:
        """The note as stored (rows read from the database: two queries)."""
        return cls(**{name: getattr(visit, name) for name in NOTE_FIELDS}, findings=list(visit.findings or []),
                   vitals=dict(visit.vitals or {}), rom=list(visit.rom or []),
                   treatments=[Treatment.of(r) for r in visit.treatments.all()],
                   complementary=[Complementary.of(r) for r in visit.complementary.all()])
