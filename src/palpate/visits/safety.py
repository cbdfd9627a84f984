"""The visit's safety screen: assemble today's facts, ask the core, and check the treatment rows.

The screen itself (holds, restrictions, referrals) is the core's answer via ``palpate.lib.clinical``.
Checking a documented row against the restrictions uses the core's own geometry
(``palpate.core.regions.covers``: the region itself, its group or ``whole_body``, one side never
blocking the other) and its pressure order (``RANK``: none < light < moderate < deep), exactly as
the contract states what a plan item must respect.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from palpate.core.errors import InputError
from palpate.core.kb.clinical import RANK, knowledge_base
from palpate.core.regions import covers
from palpate.lib.clinical import build_request, run_plan
from palpate.visits import vocab


@dataclass(frozen=True)
class Breach:
    """One restriction a treatment row breaks, in words a therapist can act on."""

    restriction: dict[str, Any]
    message: str

    @property
    def key(self) -> tuple[str, ...]:
        return restriction_key(self.restriction)


def restriction_key(restriction: Mapping[str, Any]) -> tuple[str, ...]:
    """Flat strings, so the key survives a round trip through JSON."""
    return (str(restriction.get("region")), str(restriction.get("side") or ""), str(restriction.get("max_pressure")),
            ",".join(restriction.get("because") or ()))


def row_key(row: Mapping[str, Any]) -> tuple[str, ...]:
    return (str(row.get("technique")), str(row.get("region")), str(row.get("side") or ""), str(row.get("pressure")))


def breaches(row: Mapping[str, Any], restrictions: Iterable[Mapping[str, Any]]) -> list[Breach]:
    """The restrictions a row (technique, region, side, pressure) breaks."""
    index = knowledge_base().regions
    technique, region, side = row.get("technique"), row.get("region"), row.get("side") or None
    pressure = row.get("pressure")
    if not technique or not region or pressure not in RANK or region not in index.regions:
        return []
    found = []
    for restriction in restrictions:
        if technique not in (restriction.get("techniques") or ()):
            continue
        if not covers(index, str(restriction.get("region")), restriction.get("side") or None, region, side):
            continue
        cap = str(restriction.get("max_pressure", "none"))
        if RANK[pressure] <= RANK.get(cap, 0):
            continue
        because = ", ".join(vocab.label(b).lower() for b in restriction.get("because") or ())
        at = vocab.where(str(restriction.get("region")), restriction.get("side"))
        if restriction.get("hold"):
            message = f"The screen holds today's session ({because}): no soft-tissue work; see the referrals."
        elif cap == "none":
            message = f"No {vocab.label(technique).lower()} at {at}: {because}."
        else:
            message = f"{vocab.label(technique)} at {at} is capped at {cap} pressure ({because}); this row is {pressure}."
        found.append(Breach(dict(restriction), message))
    return found


def screen_visit(clinic: Any, patient: Any, episode: Any, visit: Any, evaluation: Any | None) -> dict[str, Any]:
    """The core's answer for today, from the evaluation plus what this visit changed.

    ``visit`` may be unsaved (the live preview): its typed soreness feeds the dose, its findings
    and vitals are merged over the evaluation's. Bad stored or typed facts come back as
    ``{"error": {...}}`` for the page to show, never as an exception.
    """
    request = build_request(patient, episode, on=visit.visit_date or dt.date.today(), evaluation=evaluation,
                            findings=visit.findings or [], vitals=visit.vitals or {}, last_visit=visit)
    try:
        return run_plan(clinic, request)
    except InputError as error:
        return error.as_json()


def screen_error(screen: Mapping[str, Any] | None) -> str:
    error = (screen or {}).get("error")
    if not error:
        return ""
    where = f" ({error.get('path')})" if error.get("path") else ""
    return f"{error.get('message', 'The safety screen could not run')}{where}."


ALL_TECHNIQUES = "__all__"


def effective_restrictions(screen: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """The screen's restrictions, plus the whole body when the screen holds today's session.

    A hold (fever, suspected DVT, cauda equina...) comes with referrals rather than restrictions;
    every soft-tissue row breaks it.
    """
    screen = screen or {}
    out = [dict(r) for r in screen.get("restrictions") or []]
    if screen.get("session") == "hold":
        because = sorted({b for r in screen.get("referrals") or [] for b in r.get("because") or []}) or ["session_hold"]
        out.append({"region": "whole_body", "side": None, "techniques": [code for code, _ in vocab.technique_choices()],
                    "max_pressure": "none", "severity": "absolute", "because": because, "hold": True,
                    "sources": [], "detail": ["The screen holds today's session: no soft-tissue work."]})
    return out


@dataclass
class RowCheck:
    """The outcome of checking the typed treatment rows against today's restrictions."""

    # row form key -> the breaches still blocking that row
    blocking: dict[str, list[Breach]]
    # row form key -> the breaches an override (kept or new) allows
    overridden: dict[str, list[tuple[Breach, str]]]
    # row form key -> why a typed override was refused (role)
    refused: dict[str, str]
    # the visit's overrides if these rows are saved; the new ones among them
    overrides: list[dict[str, Any]]
    new_overrides: list[dict[str, Any]]

    @property
    def ok(self) -> bool:
        return not self.blocking and not self.refused


def check_rows(rows: Iterable[tuple[str, Mapping[str, Any], str]], screen: Mapping[str, Any] | None,
               existing: Iterable[Mapping[str, Any]], can_override: bool, who: Any, when: dt.datetime) -> RowCheck:
    """Check ``(key, row, typed override reason)`` triples against the screen.

    An override already on the visit for the same row and restriction stays (whoever saves next);
    a new one needs the override permission and a reason.
    """
    restrictions = effective_restrictions(screen)
    kept = {(tuple(o["row_key"]), tuple(o["restriction_key"])): o for o in existing if "row_key" in o}
    check = RowCheck({}, {}, {}, [], [])
    for key, row, reason in rows:
        reason = (reason or "").strip()
        for breach in breaches(row, restrictions):
            if breach.restriction.get("hold"):
                # A held session cannot be overridden row by row: the referral decides.
                check.blocking.setdefault(key, []).append(breach)
                continue
            ident = (row_key(row), restriction_key(breach.restriction))
            if ident in kept:
                check.overridden.setdefault(key, []).append((breach, kept[ident]["reason"]))
                check.overrides.append(kept[ident])
            elif reason and can_override:
                entry = {"row_key": list(ident[0]), "restriction_key": list(ident[1]),
                         "row": dict(row), "restriction": breach.restriction, "reason": reason,
                         "by": getattr(who, "pk", None), "by_name": _name(who), "at": when.isoformat()}
                check.overridden.setdefault(key, []).append((breach, reason))
                check.overrides.append(entry)
                check.new_overrides.append(entry)
                kept[ident] = entry
            elif reason:
                check.refused[key] = "Only a therapist with override rights can override a safety restriction."
                check.blocking.setdefault(key, []).append(breach)
            else:
                check.blocking.setdefault(key, []).append(breach)
    return check


def _name(user: Any) -> str:
    if user is None:
        return ""
    full = user.get_full_name() if hasattr(user, "get_full_name") else ""
    return full or user.get_username()
