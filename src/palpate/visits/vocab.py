"""Choices and labels for the visit note, read from the clinical core's knowledge base (one source).

The web layer only lists what the core knows; it never decides what a code means clinically.
"""

from __future__ import annotations

from functools import cache

from palpate.core.kb.clinical import knowledge_base
from palpate.core.measures import rom_reference
from palpate.core.planning import FindingInfo, finding_catalogue
from palpate.core.regions import regions

# Row tables are narrow on a tablet: "—" is the midline choice (the column is headed "Side").
SIDE_CHOICES = [("", "—"), ("left", "Left"), ("right", "Right")]


@cache
def technique_choices() -> tuple[tuple[str, str], ...]:
    return tuple((code, t.label) for code, t in knowledge_base().techniques.items())


@cache
def pressure_choices() -> tuple[tuple[str, str], ...]:
    # The knowledge base's pressure labels are long explanations; the first clause names the level.
    return tuple((code, text.split(":")[0]) for code, text in knowledge_base().pressures.items())


@cache
def pressure_help() -> tuple[tuple[str, str], ...]:
    return tuple(knowledge_base().pressures.items())


@cache
def therapy_choices() -> tuple[tuple[str, str], ...]:
    return tuple((code, t.label) for code, t in knowledge_base().therapies.items())


@cache
def treatment_region_choices() -> tuple[tuple[str, str], ...]:
    """Concrete regions only: a treatment row is done somewhere, never on a whole group."""
    return tuple((r.code, r.label) for r in regions() if r.kind == "region")


@cache
def finding_region_choices() -> tuple[tuple[str, str], ...]:
    """A finding may name a region, a region group or the whole body (vocabulary.md)."""
    return tuple((r.code, r.label if r.kind == "region" else f"{r.label} (all)") for r in regions())


@cache
def paired_targets() -> frozenset[str]:
    return frozenset(r.code for r in regions() if r.paired)


@cache
def findings_by_scope() -> tuple[tuple[FindingInfo, ...], tuple[FindingInfo, ...]]:
    """(whole-body findings, local findings) in the core's order."""
    catalogue = finding_catalogue()
    return (tuple(f for f in catalogue if f.scope == "whole_body"), tuple(f for f in catalogue if f.scope != "whole_body"))


@cache
def finding_labels() -> dict[str, str]:
    return {f.code: f.label for f in finding_catalogue()}


@cache
def rom_choices() -> tuple[tuple[str, str], ...]:
    """``joint:motion`` pairs the core has reference norms for."""
    return tuple((f"{n.joint}:{n.motion}", f"{n.joint.replace('_', ' ').capitalize()} {n.motion.replace('_', ' ')}")
                 for n in rom_reference().norms)


@cache
def _labels() -> dict[str, str]:
    out: dict[str, str] = {}
    for pairs in (technique_choices(), pressure_choices(), therapy_choices(), finding_region_choices()):
        out.update(dict(pairs))
    out.update(finding_labels())
    return out


def label(code: str | None) -> str:
    if not code:
        return ""
    return _labels().get(code) or code.replace("_", " ").capitalize()


def where(region: str, side: str | None) -> str:
    """A place in running text: "lower back", "left thigh", "left upper limb"."""
    text = label(region).removesuffix(" (all)").lower()
    return f"{side} {text}" if side else text
