"""The last session's response and the dose that follows it (planning policy §3), for plans and rows.

One rule, two callers. The planner tailors today's suggested session with it; the web app applies
it to the rows a visit note carries forward from the last visit, which are what gets signed. Both
ask the same two functions, with the clinic's thresholds (``Policy``: ``soreness_lower_min``,
``soreness_hours_max``, ``soreness_progress_max``, ``soreness_severe_min``,
``soreness_severe_hours``), so no number is repeated outside ``kb/policy.yaml``:

- soreness of ``soreness_lower_min`` (5) or more, or lasting over ``soreness_hours_max`` (48) hours:
  one pressure level lower than last time for the regions treated (never below light);
- soreness of ``soreness_severe_min`` (8) or more, or lasting over ``soreness_severe_hours`` (72)
  hours: no technique marked ``withheld_after_severe_soreness`` (friction, trigger point) and a
  prompt to re-assess for an adverse event (Ernst 2003);
- soreness of ``soreness_progress_max`` (2) or less with good relief: the planner may progress one
  level (never for carried-forward rows: progressing is a suggestion, not something done to a
  record).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from palpate.core.kb.clinical import PRESSURES, RANK, knowledge_base
from palpate.core.policy import Policy, default_policy
from palpate.core.request import LastSession

ADVERSE_EVENT_SOURCE = "Ernst 2003"


@dataclass(frozen=True, slots=True)
class SessionResponse:
    """What the last session's response asks of today's dose."""

    lower: bool  # one pressure level lower
    progress: bool  # may progress one level (planner only)
    tolerance: str | None  # the patient's pressure tolerance caps pressure
    detail: str  # "soreness 7/10 at 24 h, lasting 72 h" ("" without a response)
    severe: str  # "8/10, lasting 80 h" when severe, else ""

    @property
    def words(self) -> str:
        """For a plan item's note: "last session's soreness 7/10 at 24 h"."""
        return f"last session's {self.detail}"

    @property
    def changes_anything(self) -> bool:
        return self.lower or bool(self.severe)

    def adverse_event_prompt(self) -> str:
        """The warning severe soreness raises (empty when it is not severe)."""
        if not self.severe:
            return ""
        withheld = [t.label.lower() for t in knowledge_base().techniques.values() if t.withheld_after_severe_soreness]
        return (f"Severe soreness after the last session ({self.severe}): no {' or '.join(withheld)} today; "
                f"re-assess for an adverse event before treating ({ADVERSE_EVENT_SOURCE}).")


def session_response(last: LastSession | None, policy: Policy | None = None) -> SessionResponse:
    """How the last session's soreness, its duration, relief and tolerance change today's dose."""
    if last is None:
        return SessionResponse(False, False, None, "", "")
    policy = policy or default_policy()
    soreness, hours = last.soreness_24h, last.soreness_hours
    lower = ((soreness is not None and soreness >= policy.soreness_lower_min)
             or (hours is not None and hours > policy.soreness_hours_max))
    progress = (not lower and soreness is not None and soreness <= policy.soreness_progress_max
                and last.relief == "good")
    parts = []
    if soreness is not None:
        parts.append(f"soreness {soreness:g}/10 at 24 h")
    if hours is not None:
        parts.append(f"lasting {hours:g} h")
    if progress:
        parts.append("with good relief")
    severe = []
    if soreness is not None and soreness >= policy.soreness_severe_min:
        severe.append(f"{soreness:g}/10")
    if hours is not None and hours > policy.soreness_severe_hours:
        severe.append(f"lasting {hours:g} h")
    return SessionResponse(lower, progress, last.pressure_tolerance, ", ".join(parts), ", ".join(severe))


def one_level_lower(pressure: str) -> str:
    """The next gentler pressure; light stays light (there is nothing gentler to give)."""
    return PRESSURES[max(RANK[pressure] - 2, 0)] if pressure in PRESSURES else pressure


@dataclass(frozen=True, slots=True)
class RowChange:
    """What the response does to one carried-forward row: ``lowered`` or ``removed``, and why."""

    action: str  # lowered | removed
    technique: str
    region: str
    side: str | None
    from_pressure: str
    to_pressure: str | None  # None when removed
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"action": self.action, "technique": self.technique, "region": self.region, "side": self.side,
                "from_pressure": self.from_pressure, "to_pressure": self.to_pressure, "reason": self.reason}


def respond_to_rows(rows: Iterable[Mapping[str, Any]], last: LastSession | None,
                    policy: Policy | None = None) -> tuple[RowChange | None, ...]:
    """For each carried-forward row ``{"technique", "region", "side", "pressure"}``: the change the
    last session's response makes to it (None: it stays as it was).

    Severe soreness removes a withheld technique (friction, trigger point) whatever its pressure;
    otherwise soreness at or above the lowering threshold lowers the row one pressure level (a
    light row stays light). Rows are the regions treated last time, so "that region's rows" are
    the rows themselves.
    """
    response = session_response(last, policy)
    techniques = knowledge_base().techniques
    out: list[RowChange | None] = []
    for row in rows:
        technique, pressure = str(row.get("technique")), str(row.get("pressure"))
        region, side = str(row.get("region")), row.get("side") or None
        spec = techniques.get(technique)
        if response.severe and spec is not None and spec.withheld_after_severe_soreness:
            out.append(RowChange("removed", technique, region, side, pressure, None,
                                 f"{spec.label} withheld after severe soreness ({response.severe}); "
                                 f"re-assess for an adverse event ({ADVERSE_EVENT_SOURCE}). Planning policy §3."))
        elif response.lower and one_level_lower(pressure) != pressure:
            lower = one_level_lower(pressure)
            out.append(RowChange("lowered", technique, region, side, pressure, lower,
                                 f"pressure one level lower ({pressure} to {lower}) after "
                                 f"{response.detail} since the last visit. Planning policy §3."))
        else:
            out.append(None)
    return tuple(out)
