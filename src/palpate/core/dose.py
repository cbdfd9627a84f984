"""The last session's response and what it does to the next dose (planning policy §3), in one place.

The planner tailors its suggestions with :func:`judge_response`; a visit note that carries the last
visit's treatment rows forward applies the same judgement to those rows with :func:`carry_forward`,
so a patient who reported soreness of 5/10 or more (or lasting past 48 h) after the last session is
never offered last time's pressure again by either path. The thresholds are the clinic's policy
settings (``soreness_*`` in ``kb/policy.yaml``), never numbers written here.

Decisions:
- A carried-forward row is lowered one pressure level, never below light, and a technique the
  knowledge base withholds after severe soreness (``withheld_after_severe_soreness``) is not carried
  at all. Progression ("may progress one level") is permissive: it is offered by the planner's
  suggestions, where the phase ceiling is known, and never applied to a carried row by itself.
- A pressure tolerance the patient reported caps every carried row, as it caps the planner's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from palpate.core.kb.clinical import PRESSURES, RANK, knowledge_base
from palpate.core.policy import Policy
from palpate.core.request import LastSession
from palpate.core.vocabulary import label, where

# The planning policy's section for these rules, cited next to every change they make.
POLICY_SECTION = "planning policy §3"


@dataclass(frozen=True, slots=True)
class Response:
    """The last session's response, judged: lower or progress the pressure, cap it, withhold."""

    lower: bool = False
    progress: bool = False
    tolerance: str | None = None
    note: str = ""  # "last session's soreness 6/10 at 24 h, lasting 30 h"
    severe: str = ""  # "8/10, lasting 80 h", or empty when the soreness was not severe


def judge_response(last: LastSession | None, policy: Policy) -> Response:
    """Planning policy §3: soreness of ``soreness_lower_min`` or more, or lasting longer than
    ``soreness_hours_max`` hours, lowers the pressure one level; soreness of ``soreness_progress_max``
    or less with good relief lets it progress; ``soreness_severe_min`` or more, or lasting longer than
    ``soreness_severe_hours``, withholds friction and trigger points and prompts a re-assessment."""
    if last is None:
        return Response()
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
    return Response(lower, progress, last.pressure_tolerance, "last session's " + ", ".join(parts),
                    ", ".join(severe))


def one_level_lower(pressure: str) -> str:
    """moderate -> light, deep -> moderate; light stays light (nothing lighter is still a treatment)."""
    return PRESSURES[max(RANK[pressure] - 2, 0)] if pressure in PRESSURES else pressure


@dataclass(frozen=True, slots=True)
class CarriedForward:
    """The rows to carry into the next note, what changed in them and why, and what was left out."""

    rows: tuple[dict[str, Any], ...]
    changes: tuple[str, ...]
    withheld: tuple[dict[str, Any], ...]
    response: Response


def carry_forward(rows: Sequence[Mapping[str, Any]], last: LastSession | None, policy: Policy) -> CarriedForward:
    """Apply the last session's response to treatment rows carried from the last visit.

    Each row is ``{"technique", "region", "side", "pressure", "minutes", ...}``; every other key is
    kept as it is. The rows come back in the same order, less any withheld after severe soreness.
    """
    judged = judge_response(last, policy)
    techniques = knowledge_base().techniques
    out: list[dict[str, Any]] = []
    changes: list[str] = []
    withheld: list[dict[str, Any]] = []
    for row in rows:
        technique = techniques.get(str(row.get("technique")))
        place = where(str(row.get("region") or ""), str(row.get("side") or "") or None)
        name = label(str(row.get("technique")), "technique").lower()
        if judged.severe and technique is not None and technique.withheld_after_severe_soreness:
            withheld.append(dict(row))
            changes.append(f"{name} at the {place} not carried forward after severe soreness ({judged.severe}); "
                           f"re-assess for an adverse event first ({POLICY_SECTION}, Ernst 2003)")
            continue
        carried = dict(row)
        pressure = str(row.get("pressure") or "")
        if judged.lower and pressure in PRESSURES and pressure != "light":
            carried["pressure"] = one_level_lower(pressure)
            changes.append(f"{name} at the {place}: {pressure} to {carried['pressure']}, one level lower after "
                           f"{judged.note} ({POLICY_SECTION})")
        tolerance = judged.tolerance
        if tolerance in PRESSURES and carried.get("pressure") in RANK and RANK[str(carried["pressure"])] > RANK[tolerance]:
            changes.append(f"{name} at the {place}: capped at the patient's tolerance ({tolerance})")
            carried["pressure"] = tolerance
        out.append(carried)
    return CarriedForward(tuple(out), tuple(changes), tuple(withheld), judged)
