"""What an item breaks, and whether that may be overridden: the one rule for every kind of item.

The screen (``screening.py``) answers with restrictions in the contract's shape (region or group,
side, techniques, ``max_pressure``, severity, because ...). Everything a therapist may put in a
plan of care or a visit note is checked against them here, and only here:

- a soft-tissue item ``{"technique", "region", "side", "pressure"}`` breaks a restriction that
  covers its place and technique when its pressure is above the cap (``none``: any pressure);
- a home exercise ``{"exercise", "region", "side"}`` breaks a restriction that forbids exercise
  (``"exercise": true``) at any region the exercise moves or loads (the library knows which:
  its ``regions`` and ``loads``); an exercise for a midline region (bird dog for the low back)
  loads paired regions, hands and knees, on both sides;
- a complementary therapy ``{"therapy", "region", "side"}`` (placed at the condition it treats)
  breaks a restriction that lists the therapy (``"therapies"``).

Planning policy §1.6 decides which restrictions forbid exercise and therapies: a fracture (known
or suspected), a tumour, a local infection and a DVT-suspect leg forbid both; a skin or tissue
block (wound, burn, lesion, unhealed incision, acute inflammation) forbids what is applied there
(heat, cold, electrical stimulation, massage) but not exercise that moves the region. The planner
decides the home programme and complementary therapies with this module, as the web app does for
the rows of a plan of care or a visit note.

"Covers" is the contract's geometry (``regions.covers``): the region itself, a group holding it
or the whole body, and one side never covers the other. Restrictions stored before a field
existed simply lack it and restrict nothing of that kind.

A held session is not a restriction in the contract (``session: hold`` with referrals, and an
empty plan); :func:`effective_restrictions` stands it in as a whole-body restriction on every kind
of item so that the same rule refuses what a therapist types while the screen holds.

Overrides (DESIGN.md: the therapist's judgement, recorded): only a ``relative`` restriction may be
overridden, with a reason of at least :data:`OVERRIDE_REASON_MIN_CHARS` characters. An absolute
contraindication, a referral awaiting its answer and a held session cannot be overridden at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from palpate.core.errors import InputError
from palpate.core.kb.clinical import RANK, SIDES, WHOLE_BODY, knowledge_base
from palpate.core.regions import covers

# A product rule, not a clinical number: a reason a colleague can read later ("patient tolerates
# well" rather than "ok"). Plans of care and visit notes share it.
OVERRIDE_REASON_MIN_CHARS = 10

HOLD = "session_hold"
OVERRIDABLE_SEVERITIES = frozenset({"relative"})

Item = Mapping[str, Any]
RestrictionData = Mapping[str, Any]


def item_kind(item: Item) -> str:
    """``technique``, ``exercise`` or ``therapy``: what kind of item this is."""
    for kind in ("technique", "exercise", "therapy"):
        if item.get(kind):
            return kind
    raise InputError("missing_field", "an item names a technique, an exercise or a therapy", "item")


def effective_restrictions(screen: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """The screen's restrictions, plus a whole-body stand-in for a held session."""
    screen = screen or {}
    out = [dict(r) for r in screen.get("restrictions") or []]
    if screen.get("session") == "hold":
        kb = knowledge_base()
        because = sorted({b for r in screen.get("referrals") or [] for b in r.get("because") or []}) or [HOLD]
        out.append({
            "region": WHOLE_BODY, "side": None, "techniques": list(kb.techniques), "max_pressure": "none",
            "therapies": list(kb.therapies), "exercise": True, "severity": "hold", "hold": True,
            "because": because, "sources": [],
            "detail": ["The screen holds today's session: no soft-tissue work, exercise or therapy until the "
                       "referral is answered."],
        })
    return out


def _places(item: Item) -> list[tuple[str, str | None]]:
    """Where an item acts: its own place; for an exercise, every region it moves or loads.

    A paired region without a side (an exercise for a midline region that loads the hands or
    knees) stands for both sides, so a restriction on either side reaches it.
    """
    kb = knowledge_base()
    index = kb.regions
    region, side = str(item.get("region") or ""), item.get("side") or None
    if item_kind(item) == "exercise":
        exercise = kb.exercise_index.get(str(item.get("exercise")))
        moved: tuple[str, ...] = (*exercise.regions, *exercise.loads) if exercise is not None else ()
        regions = tuple(dict.fromkeys((region, *moved)))
    else:
        regions = (region,)
    out: list[tuple[str, str | None]] = []
    for name in regions:
        if name not in index.regions:
            continue
        if not index.regions[name].paired:
            out.append((name, None))
        else:
            out += [(name, s) for s in ((side,) if side is not None else SIDES)]
    return out


def breaks(restriction: RestrictionData, item: Item) -> bool:
    """Does this item break this restriction? (The one rule; see the module docstring.)"""
    kind = item_kind(item)
    if kind == "technique":
        if str(item["technique"]) not in (restriction.get("techniques") or ()):
            return False
        cap = RANK.get(str(restriction.get("max_pressure")), 0)
        if RANK.get(str(item.get("pressure")), RANK["deep"]) <= cap:
            return False
    elif kind == "exercise":
        if not restriction.get("exercise"):
            return False
    elif str(item["therapy"]) not in (restriction.get("therapies") or ()):
        return False
    index = knowledge_base().regions
    target, target_side = str(restriction.get("region")), restriction.get("side") or None
    return any(covers(index, target, target_side, region, side) for region, side in _places(item))


def allowed(item: Item, restrictions: Iterable[RestrictionData]) -> bool:
    """True when the item breaks none of the restrictions (the planner's question for every item)."""
    return not any(breaks(r, item) for r in restrictions)


def may_override(restriction: RestrictionData) -> bool:
    """Only a relative restriction may be overridden; never an absolute one, a referral or a hold."""
    return not restriction.get("hold") and restriction.get("severity") in OVERRIDABLE_SEVERITIES


@dataclass(frozen=True)
class Breach:
    """One restriction an item breaks, in words a therapist can act on."""

    restriction: dict[str, Any]
    message: str
    overridable: bool

    @property
    def key(self) -> tuple[str, ...]:
        return restriction_key(self.restriction)


def breaches(item: Item, restrictions: Iterable[RestrictionData]) -> list[Breach]:
    """Every restriction the item breaks, with a sentence for each."""
    return [Breach(dict(r), describe_breach(r, item), may_override(r)) for r in restrictions if breaks(r, item)]


def check_override_reason(reason: str | None) -> str:
    """The reason, stripped; InputError when it is too short to tell a colleague why."""
    text = (reason or "").strip()
    if len(text) < OVERRIDE_REASON_MIN_CHARS:
        raise InputError("reason_too_short",
                         f"Give your clinical reason in at least {OVERRIDE_REASON_MIN_CHARS} characters; "
                         "it is kept with the record and in the audit trail.", "override_reason")
    return text


def restriction_key(restriction: RestrictionData) -> tuple[str, ...]:
    """What identifies a restriction across saves (flat strings, so it survives JSON)."""
    return (str(restriction.get("region")), str(restriction.get("side") or ""), str(restriction.get("max_pressure")),
            ",".join(sorted(str(b) for b in restriction.get("because") or ())))


def item_key(item: Item) -> tuple[str, ...]:
    """What makes an item safe or unsafe: what it is, where, and (for techniques) how hard."""
    kind = item_kind(item)
    return (kind, str(item.get(kind)), str(item.get("region") or ""), str(item.get("side") or ""),
            str(item.get("pressure") or ""))


# ---------------------------------------------------------------------------------------------
# Words (labels from the vocabulary, so no code reaches a screen)


def describe_restriction(restriction: RestrictionData) -> str:
    """One plain sentence: what must not be done where, and why."""
    from palpate.core.vocabulary import join_or, label, where

    if restriction.get("hold"):
        return "The screen holds today's session: no soft-tissue work until the referral is answered."
    place = where(str(restriction.get("region")), restriction.get("side"))
    because = ", ".join(label(b).lower() for b in restriction.get("because") or ())
    techniques = [label(t).lower() for t in restriction.get("techniques") or ()]
    cap = str(restriction.get("max_pressure"))
    parts = []
    if techniques:
        parts.append(f"no {join_or(techniques)} at the {place}" if cap == "none"
                     else f"{label(cap).lower()} pressure at most for {join_or(techniques)} at the {place}")
    if restriction.get("exercise"):
        parts.append(f"no exercise that moves or loads the {place}")
    therapies = [label(t).lower() for t in restriction.get("therapies") or ()]
    if therapies:
        parts.append(f"no {join_or(therapies)} at the {place}")
    text = "; ".join(parts) or f"restriction at the {place}"
    text = text[0].upper() + text[1:]
    return f"{text} ({because})." if because else f"{text}."


def describe_item(item: Item) -> str:
    from palpate.core.vocabulary import label, where

    kind = item_kind(item)
    text = f"{label(str(item[kind]))} at the {where(str(item.get('region') or ''), item.get('side'))}"
    return f"{text}, {label(str(item.get('pressure'))).lower()} pressure" if kind == "technique" else text


def describe_breach(restriction: RestrictionData, item: Item) -> str:
    from palpate.core.vocabulary import label

    because = ", ".join(label(b).lower() for b in restriction.get("because") or ())
    if restriction.get("hold"):
        return f"The screen holds today's session ({because}): nothing can be done until the referral is answered."
    cap = str(restriction.get("max_pressure"))
    if item_kind(item) == "technique" and cap != "none":
        return (f"{describe_item(item)}: capped at {label(cap).lower()} pressure here ({because}).")
    return f"{describe_item(item)}: not allowed here ({because})."
