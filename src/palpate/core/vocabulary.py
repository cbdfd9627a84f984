"""One vocabulary: every code the knowledge base knows, with the words a clinician reads.

Forms take their choices from :func:`choices`, templates and PDFs their words from :func:`label`
and :func:`where`, so a code is named the same way on every screen and nothing internal
(``anticoagulant_therapy``, ``lower_back``) reaches a person. Labels come from the file that
defines the code (regions, techniques, conditions, findings, therapies, exercises, screens) and,
for codes no other file labels, from ``kb/vocabulary.yaml``.

Some codes mean different things in different lists (``none`` is a pressure cap and a relief
answer; ``relief`` is a relief answer and a response): ask with ``kind`` where it matters.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache
from types import MappingProxyType

from palpate.core.errors import KnowledgeBaseError
from palpate.core.kb import KB_VERSION
from palpate.core.kb.clinical import WHOLE_BODY, knowledge_base
from palpate.core.kb.loader import load_yaml
from palpate.core.kb.schema import Doc

FILE = "vocabulary.yaml"
# Lists that only vocabulary.yaml defines, in the order the file gives them.
OWN_KINDS = ("sides", "pressures", "responses", "relief", "irritabilities", "sessions", "severities", "urgencies",
             "referral_reasons", "vitals", "reasons", "discharge_reasons", "goal_outcomes",
             "billing_warnings")

Choices = tuple[tuple[str, str], ...]


@cache
def _own() -> Mapping[str, Mapping[str, str]]:
    doc = Doc(FILE)
    root = doc.mapping(load_yaml(FILE), "")
    doc.known(root, ("kb_version", *OWN_KINDS), "")
    if doc.text(root, "kb_version", "") != KB_VERSION:
        raise KnowledgeBaseError(FILE, "kb_version", f"is {root['kb_version']!r}, but the code expects {KB_VERSION!r}")
    out: dict[str, Mapping[str, str]] = {}
    for kind in OWN_KINDS:
        section = doc.map_of(root, kind, "")
        out[kind] = MappingProxyType({str(code): doc.text(section, code, kind) for code in section})
    return MappingProxyType(out)


@cache
def _lists() -> Mapping[str, Choices]:
    """Every kind of code, in the knowledge base's own order, as (code, label) pairs."""
    kb = knowledge_base()
    index = kb.regions
    own = _own()
    findings = tuple((r.code, r.label) for r in kb.rules.values())
    lists: dict[str, Choices] = {kind: tuple(own[kind].items()) for kind in OWN_KINDS}
    lists.update({
        "region": tuple((r.code, r.label) for r in index.regions.values()),
        "group": tuple((g.code, g.label) for g in index.groups.values()),
        "whole_body": ((WHOLE_BODY, index.whole_body_label),),
        "technique": tuple((code, t.label) for code, t in kb.techniques.items()),
        "therapy": tuple((code, t.label) for code, t in kb.therapies.items()),
        "condition": tuple((code, c.label) for code, c in kb.conditions.items()),
        "phase": tuple((code, p.label) for code, p in kb.phases.items()),
        "finding": findings,
        "finding_whole_body": tuple((r.code, r.label) for r in kb.rules.values() if r.scope == "whole_body"),
        "finding_local": tuple((r.code, r.label) for r in kb.rules.values() if r.scope != "whole_body"),
        "exercise": tuple((e.code, e.name) for e in kb.exercises),
        "red_flag": tuple((f.code, f.label) for f in kb.red_flags),
        "screen": tuple((code, o.label) for code, o in kb.ottawa.items()),
        "wells_item": tuple(kb.wells.labels.items()),
    })
    return MappingProxyType(lists)


# When no kind is given, the first list that knows the code names it. Findings and places come
# before the small lists, whose short codes (``none``, ``low``) are ambiguous.
LOOKUP_ORDER = ("finding", "region", "group", "whole_body", "technique", "therapy", "condition", "exercise",
                "red_flag", "screen", "reasons", "referral_reasons", "phase", "wells_item", "vitals", "pressures",
                "sides", "responses", "relief", "irritabilities", "sessions", "severities", "urgencies",
                "discharge_reasons", "goal_outcomes",
                "billing_warnings")

KIND_ALIASES = {"side": "sides", "pressure": "pressures", "response": "responses", "irritability": "irritabilities",
                "session": "sessions", "severity": "severities", "urgency": "urgencies",
                "referral_reason": "referral_reasons", "vital": "vitals", "reason": "reasons",
                "discharge_reason": "discharge_reasons", "goal_outcome": "goal_outcomes",
                "billing_warning": "billing_warnings"}


@cache
def _labels() -> Mapping[str, str]:
    out: dict[str, str] = {}
    for kind in reversed(LOOKUP_ORDER):
        out.update(_lists()[kind])
    return MappingProxyType(out)


def choices(kind: str) -> Choices:
    """(code, label) pairs of one kind, in the knowledge base's order.

    Kinds: region, group, whole_body, site (regions, groups and the whole body), technique,
    therapy, condition, phase, finding, finding_whole_body, finding_local, exercise, red_flag,
    screen, wells_item, side, pressure, response, relief, irritability, session, severity,
    urgency, referral_reason, vital, reason, discharge_reason, goal_outcome, billing_warning.
    """
    if kind == "site":
        lists = _lists()
        return (*lists["region"], *((c, f"{text} (all)") for c, text in lists["group"]), *lists["whole_body"])
    kind = KIND_ALIASES.get(kind, kind)
    try:
        return _lists()[kind]
    except KeyError:
        raise KeyError(f"unknown vocabulary kind {kind!r}") from None


def knows(code: str | None, kind: str | None = None) -> bool:
    if not code:
        return False
    if kind is None:
        return code in _labels()
    return code in dict(choices(kind))


def label(code: str | None, kind: str | None = None) -> str:
    """The words for a code ("Anticoagulant therapy"); an unknown code is shown as words, never raw."""
    if not code:
        return ""
    if kind is not None:
        found = dict(choices(kind)).get(code)
        if found is not None:
            return found
    return _labels().get(code) or code.replace("_", " ").capitalize()


def where(region: str | None, side: str | None = None) -> str:
    """A place in running text: "lower back", "left thigh", "left upper limb", "whole body"."""
    if not region:
        return ""
    text = label(region).lower()
    return f"{side} {text}" if side else text


def join_or(names: Iterable[str]) -> str:
    """"a", "a or b", "a, b or c"."""
    listed = list(names)
    if len(listed) <= 1:
        return "".join(listed)
    return f"{', '.join(listed[:-1])} or {listed[-1]}"


def paired(region: str) -> bool:
    """Does this region or group take a side?"""
    index = knowledge_base().regions
    return region != WHOLE_BODY and (region in index.regions or region in index.groups) and index.is_paired(region)
