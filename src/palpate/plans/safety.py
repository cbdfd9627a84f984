"""Does a plan item break one of the stored safety restrictions?

The restrictions are the clinical core's answer stored with the plan (``engine_output``), so a
plan is always checked against the screen it was built from. The coverage rule (the region
itself, its group, or ``whole_body``; a restriction on one side never blocks the other) is the
core's own ``palpate.core.regions.covers`` and the pressure order is the core's ``RANK``
(light < moderate < deep, ``none`` below all): nothing here re-decides a clinical rule, it only
applies the core's answer to an item the therapist typed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from palpate.core.kb.clinical import RANK, knowledge_base
from palpate.core.regions import covers

# A held session (fever, suspected DVT, cauda equina signs ...) is not listed as a restriction: the
# core answers it with an empty plan and a referral (contract: ``hold`` means no soft-tissue work).
# A plan item typed while the screen holds is therefore checked against this stand-in, so keeping
# it is an override like any other, with a reason and an audit event.
HOLD_BECAUSE = "session_hold"


def hold_restriction(engine_output: Mapping[str, Any]) -> dict[str, Any]:
    techniques = list(knowledge_base().techniques)
    return {
        "region": "whole_body", "side": None, "techniques": techniques, "max_pressure": "none",
        "severity": "hold", "because": [HOLD_BECAUSE],
        "sources": [], "detail": list(engine_output.get("warnings") or []),
    }


def effective_restrictions(engine_output: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The stored restrictions, plus the session hold when the screen held the session."""
    restrictions = [dict(r) for r in engine_output.get("restrictions") or []]
    if engine_output.get("session") == "hold":
        restrictions.append(hold_restriction(engine_output))
    return restrictions


def covers_item(restriction: Mapping[str, Any], item: Mapping[str, Any]) -> bool:
    """Does the restriction apply to this item's place and technique?"""
    region, side = str(item.get("region") or ""), item.get("side") or None
    if str(item.get("technique")) not in (restriction.get("techniques") or []):
        return False
    index = knowledge_base().regions
    if region not in index.regions:
        return False
    return covers(index, str(restriction.get("region")), restriction.get("side") or None, region, side)


def breaks(restriction: Mapping[str, Any], item: Mapping[str, Any]) -> bool:
    """True when the item is covered and its pressure is above the restriction's cap (``none``: any)."""
    if not covers_item(restriction, item):
        return False
    cap = RANK.get(str(restriction.get("max_pressure")), 0)
    return RANK.get(str(item.get("pressure")), RANK["deep"]) > cap


def broken_restrictions(restrictions: Iterable[Mapping[str, Any]], item: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [dict(r) for r in restrictions if breaks(r, item)]


def item_key(item: Mapping[str, Any]) -> tuple[str, str, str, str]:
    """What makes an item safe or unsafe: technique, place and pressure (not its minutes)."""
    return (str(item.get("technique")), str(item.get("region")), str(item.get("side") or ""), str(item.get("pressure")))


def restriction_key(restriction: Mapping[str, Any]) -> tuple[Any, ...]:
    return (str(restriction.get("region")), str(restriction.get("side") or ""),
            tuple(restriction.get("techniques") or ()), str(restriction.get("max_pressure")),
            tuple(restriction.get("because") or ()))


# ---------------------------------------------------------------------------------------------
# Words for people


def words(code: object) -> str:
    return str(code or "").replace("_", " ")


def technique_label(code: str) -> str:
    technique = knowledge_base().techniques.get(code)
    return technique.label if technique else words(code)


def place(region: str, side: str | None) -> str:
    """``left calf``, ``lower back``, ``whole body``, ``left lower limb``."""
    name = words(region)
    return f"{side} {name}" if side else name


def _join(names: list[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} or {names[-1]}"


def describe_restriction(restriction: Mapping[str, Any]) -> str:
    """One plain sentence: what must not be done where, and why."""
    techniques = [technique_label(t).lower() for t in restriction.get("techniques") or []]
    where = place(str(restriction.get("region")), restriction.get("side"))
    because = ", ".join(words(b) for b in restriction.get("because") or [])
    if HOLD_BECAUSE in (restriction.get("because") or []):
        return "The screen held the session: no soft-tissue work until the hold is resolved (see referrals)."
    cap = str(restriction.get("max_pressure"))
    if cap == "none":
        text = f"No {_join(techniques)} at the {where}"
    else:
        text = f"{cap.capitalize()} pressure at most for {_join(techniques)} at the {where}"
    return f"{text} ({because})." if because else f"{text}."


def describe_item(item: Mapping[str, Any]) -> str:
    return (f"{technique_label(str(item.get('technique')))} at the {place(str(item.get('region')), item.get('side'))}, "
            f"{item.get('pressure')} pressure")
