"""Choices and labels for the plan forms, all read from the clinical core (one source of codes)."""

from __future__ import annotations

from functools import cache

from palpate.core.billing import codes_for_technique
from palpate.core.errors import InputError
from palpate.core.kb.clinical import PRESSURES, knowledge_base
from palpate.core.planning import exercise_library
from palpate.core.regions import regions
from palpate.patients.vocab import paired_regions

SIDE_CHOICES = [("", "— (midline)"), ("left", "Left"), ("right", "Right")]
TERM_CHOICES = [("short", "Short-term"), ("long", "Long-term")]


def technique_choices() -> list[tuple[str, str]]:
    return [(code, t.label) for code, t in knowledge_base().techniques.items()]


def pressure_choices() -> list[tuple[str, str]]:
    return [(p, p.capitalize()) for p in PRESSURES]


@cache
def region_labels() -> dict[str, str]:
    return {r.code: r.label for r in regions()}


def region_choices() -> list[tuple[str, str]]:
    """Concrete regions only: an item is done at one place, never at a group or the whole body."""
    return [(r.code, r.label) for r in regions() if r.kind == "region"]


def is_paired(region: str) -> bool:
    return region in paired_regions()


def therapy_choices() -> list[tuple[str, str]]:
    return [(code, t.label) for code, t in knowledge_base().therapies.items()]


def therapy(code: str) -> dict[str, str]:
    t = knowledge_base().therapies[code]
    return {"therapy": t.code, "label": t.label, "why": t.why, "cpt": t.cpt or ""}


@cache
def exercises() -> dict[str, dict[str, str]]:
    """The home-exercise library by code: name, dose and plain instructions."""
    return {e.code: {"name": e.name, "dose": e.dose, "instructions": e.instructions,
                     "regions": ", ".join(region_labels().get(r, r) for r in e.regions)}
            for e in exercise_library()}


def exercise_choices() -> list[tuple[str, str]]:
    return [(code, f"{e['name']} ({e['regions']})") for code, e in exercises().items()]


def cpt_for(technique: str) -> str:
    """The CPT code the technique is reported under (the core's billing catalogue), or blank."""
    try:
        codes = codes_for_technique(technique)
    except InputError:
        return ""
    return codes[0] if codes else ""
