"""The one vocabulary of the forms and pages: the clinical core's codes and words, as Django uses them.

Every code a person chooses or reads (regions, sides, pressures, techniques, responses, relief,
therapies, conditions, findings, referral reasons, urgencies, sessions, exercises) and its words
come from ``palpate.core.vocabulary``, which reads them from the knowledge base. This module only
shapes them for forms (choice lists with a blank first entry, grouped sites, the side rule put on a
form field) and adds the few phrases pages need around them; ``{% load vocabulary %}``
(``lib/templatetags/vocabulary.py``) gives templates the same words. No app keeps a list of codes
or labels of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from django import forms

from palpate.core import vocabulary as core
from palpate.core.kb.clinical import WHOLE_BODY, knowledge_base
from palpate.core.measures import rom_reference
from palpate.core.planning import FindingInfo, finding_catalogue
from palpate.core.regions import regions, side_problem

label = core.label
where = core.where
join_or = core.join_or

Choices = list[tuple[str, Any]]

CHOOSE = ("", "Choose…")
# The side of a midline place is blank; row tables are narrow, so the blank choice is a dash.
NO_SIDE = ("", "—")


class VocabularyChoiceField(forms.ChoiceField):
    """A choice field whose choices are the vocabulary's, fixed for the life of the process.

    Django copies a field's choices into every form it builds; a note builds a form per row, so
    these share theirs instead (the widget still gets its own shallow copy, as Django does).
    """

    def __deepcopy__(self, memo: dict[int, Any]) -> VocabularyChoiceField:
        result = forms.Field.__deepcopy__(self, memo)
        result._choices = self._choices
        return result  # type: ignore[no-any-return]


def choices(kind: str, blank: tuple[str, str] | None = None) -> Choices:
    """(code, words) pairs of one kind (see ``palpate.core.vocabulary.choices``), with a blank first."""
    return [*([blank] if blank else []), *core.choices(kind)]


def side_choices() -> Choices:
    return choices("side", NO_SIDE)


def pressure_choices(blank: tuple[str, str] | None = CHOOSE) -> Choices:
    """The pressures a technique is done at (``none`` is a cap in a restriction, never a dose)."""
    return [pair for pair in choices("pressure", blank) if pair[0] != "none"]


@cache
def pressure_help() -> tuple[tuple[str, str], ...]:
    """What each pressure means, as the knowledge base explains it (Watt grades)."""
    return tuple(knowledge_base().pressures.items())


@cache
def region_choices() -> tuple[tuple[str, str], ...]:
    """Concrete regions only: a treatment, an episode or a pain row is at one place, never a group."""
    return tuple((r.code, r.label) for r in regions() if r.kind == "region")


@cache
def site_choices() -> tuple[tuple[str, Any], ...]:
    """Where a finding can be: a region, a group of regions (a limb: with its side) or the whole body."""
    return (("Regions", region_choices()),
            ("Groups", tuple((r.code, f"{r.label} (all)") for r in regions() if r.kind == "group")),
            ("Everywhere", tuple((r.code, r.label) for r in regions() if r.kind == "whole_body")))


@cache
def paired_regions() -> frozenset[str]:
    """Regions and groups that take a side."""
    return frozenset(r.code for r in regions() if r.paired)


@cache
def region_groups() -> Mapping[str, tuple[str, ...]]:
    return {r.code: r.members for r in regions() if r.kind == "group"}


def side_error(region: str | None, side: str | None) -> str | None:
    """The core's side rule (``palpate.core.regions.side_problem``) in words, or None when it fits.

    Every form that takes a region and a side asks this; an unknown region is the region field's
    own error, not the side's.
    """
    index = knowledge_base().regions
    if not region or (region != WHOLE_BODY and region not in index.regions and region not in index.groups):
        return None
    problem = side_problem(index, region, side or None)
    return problem.message if problem else None


def check_side(form: Any, region: str | None, side: str | None, field: str = "side") -> None:
    """Put the side rule's answer on ``field`` of a bound form (from its ``clean``)."""
    if (message := side_error(region, side)) is not None:
        form.add_error(field, message)


# -- findings -------------------------------------------------------------------------------------


@cache
def findings_by_code() -> Mapping[str, FindingInfo]:
    return {f.code: f for f in finding_catalogue()}


def _finding_choice(info: FindingInfo) -> tuple[str, str]:
    if info.hold:
        return info.code, f"{info.label} (holds the session)"
    if info.severity == "referral":
        return info.code, f"{info.label} (may need a referral)"
    return info.code, info.label


@cache
def finding_choices(scope: str) -> tuple[tuple[str, str], ...]:
    """Whole-body (``whole_body``) or local (``local``) findings, each saying what it may do."""
    wanted = (lambda f: f.scope == "whole_body") if scope == "whole_body" else (lambda f: f.scope != "whole_body")
    return tuple(_finding_choice(f) for f in finding_catalogue() if wanted(f))


# Findings that carry how long ago they happened and whether they closed (the contract's fields).
FINDINGS_WITH_DAYS = frozenset({"recent_fracture", "surgical_incision"})
FINDINGS_WITH_CLOSED = frozenset({"surgical_incision"})
CLOSED_CHOICES = [("", "—"), ("yes", "Closed"), ("no", "Not closed")]

# A resolving finding (a DVT, a fracture, an incision, a trauma) recorded as cleared no longer
# restricts (vocabulary.md ``cleared``); only the physician's word clears it, so the form says so.
CLEARED_LABEL = "Cleared from the physician's note"


@cache
def resolving_findings() -> frozenset[str]:
    """The findings that take ``cleared`` (the knowledge base's ``resolves``)."""
    return frozenset(f.code for f in finding_catalogue() if f.resolves)


@cache
def cleared_choices(scope: str) -> tuple[tuple[str, str], ...]:
    """The resolving findings of a scope (``whole_body``/``local``), for a "cleared" checklist."""
    return tuple((code, text) for code, text in finding_choices(scope) if code in resolving_findings())


def cleared_problem(code: str | None, cleared: bool | None) -> str:
    """Why a finding cannot be recorded as cleared ("" when it can, or is not)."""
    if not cleared or not code or code in resolving_findings():
        return ""
    names = ", ".join(label(c, "finding").lower() for c in sorted(resolving_findings()))
    return (f"{label(code, 'finding')} does not resolve, so it cannot be recorded as cleared; only these can: "
            f"{names}. Remove the finding instead if it no longer applies.")


def because_label(code: str) -> str:
    """Why a restriction, hold or referral applies: a finding, a red flag, a positive screen."""
    if code in dict(core.choices("screen")):
        return f"{label(code, 'screen')} positive"
    return label(code)


@cache
def wells_item_choices() -> tuple[tuple[str, str], ...]:
    wells = knowledge_base().wells
    out = []
    for code, points in wells.items.items():
        text = label(code, "wells_item")
        if len(points) == 1:
            text += f" (Wells {next(iter(points))} only)"
        out.append((code, text))
    return tuple(out)


# -- range of motion ------------------------------------------------------------------------------


@cache
def rom_movements() -> Mapping[str, tuple[str, str, str]]:
    """``joint:motion`` -> (joint, motion, words with the normal range), in the reference set's order."""
    out = {}
    for norm in rom_reference().norms:
        joint = label(norm.joint).split(" (")[0]
        normal = f"{norm.start:g}-{norm.end:g}°" if norm.arc else f"{norm.end:g}°"
        out[f"{norm.joint}:{norm.motion}"] = (norm.joint, norm.motion,
                                              f"{joint} {norm.motion.replace('_', ' ')} (normal {normal})")
    return out


@cache
def rom_choices() -> tuple[tuple[str, Any], ...]:
    """Movements grouped by joint, for a select with option groups."""
    grouped: dict[str, list[tuple[str, str]]] = {}
    for key, (joint, _, text) in rom_movements().items():
        grouped.setdefault(label(joint).split(" (")[0], []).append((key, text))
    return tuple((joint, tuple(options)) for joint, options in grouped.items())


# -- the home-exercise library --------------------------------------------------------------------


@cache
def exercise_library() -> Mapping[str, Mapping[str, str]]:
    """Each home exercise by code: its name, dose, plain instructions and the regions it moves."""
    return {e.code: {"name": e.name, "dose": e.dose, "instructions": e.instructions,
                     "regions": ", ".join(label(r) for r in e.regions)}
            for e in knowledge_base().exercises}


def exercise_choices() -> Choices:
    return [(code, f"{e['name']} ({e['regions']})") for code, e in exercise_library().items()]


# -- phrases around the codes ---------------------------------------------------------------------

SESSION_MEANINGS = {
    "proceed": "no restriction changed today's soft-tissue plan",
    "modify": "restrictions change what would otherwise be done",
    "hold": "no soft-tissue work today",
}


def session_meaning(code: str | None) -> str:
    return SESSION_MEANINGS.get(str(code or ""), "")


def cap_words(max_pressure: str | None) -> str:
    """A restriction's pressure cap in words: "not at all", "light pressure at most"."""
    if not max_pressure or max_pressure == "none":
        return "not at all"
    return f"{label(max_pressure, 'pressure').lower()} pressure at most"


def place(item: Mapping[str, Any] | None) -> str:
    """Where a row, finding or restriction is, as a table cell: "Left forearm", "Whole body"."""
    text = where(str((item or {}).get("region") or WHOLE_BODY), (item or {}).get("side") or None)
    return text[:1].upper() + text[1:]
