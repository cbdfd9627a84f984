"""Body regions: groups, laterality, SNOMED CT codes, and the anatomy rules spread over.

A *target* is what a finding or restriction names: a region (``forearm``), a group (``spine``,
``upper_limb``) or ``whole_body``, with a side for paired targets. A *cell* is one concrete place a
plan item can go: a region with its side (``("forearm", "left")``) or a midline region with
``None``. Restrictions are stored by target (as the contract prints them) and checked by cell.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from palpate.core.kb.clinical import SIDES, WHOLE_BODY, RegionIndex, knowledge_base

Cell = tuple[str, str | None]
Target = tuple[str, str | None]


@dataclass(frozen=True, slots=True)
class RegionInfo:
    """One region or group as the web app lists it (body chart, checklists)."""

    code: str
    label: str
    kind: str  # region | group | whole_body
    paired: bool
    groups: tuple[str, ...]
    members: tuple[str, ...]
    snomed: str | None

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "label": self.label, "kind": self.kind, "paired": self.paired,
                "groups": list(self.groups), "members": list(self.members), "snomed": self.snomed}


def regions() -> tuple[RegionInfo, ...]:
    """Every region, then every group, then ``whole_body``, with laterality and SNOMED CT code."""
    index = knowledge_base().regions
    out = [RegionInfo(r.code, r.label, "region", r.paired, r.groups, (r.code,), r.snomed)
           for r in index.regions.values()]
    out += [RegionInfo(g.code, g.label, "group", g.paired, (), g.regions, g.snomed) for g in index.groups.values()]
    out.append(RegionInfo(WHOLE_BODY, index.whole_body_label, "whole_body", False, (), tuple(index.regions),
                          index.whole_body_snomed))
    return tuple(out)


def sides_for(index: RegionIndex, region: str, side: str | None) -> tuple[str | None, ...]:
    """The sides a region takes: its own side, both when a paired side is unknown, None for midline."""
    if not index.regions[region].paired:
        return (None,)
    return (side,) if side is not None else SIDES


def cells(index: RegionIndex, target: str, side: str | None) -> tuple[Cell, ...]:
    """The concrete cells a target covers."""
    return tuple((r, s) for r in index.members(target) for s in sides_for(index, r, side))


def target_side(index: RegionIndex, target: str, side: str | None) -> tuple[Target, ...]:
    """A target as restrictions print it: a paired target without a side stands for both sides."""
    if target == WHOLE_BODY or not index.is_paired(target):
        return ((target, None),)
    return ((target, side),) if side is not None else tuple((target, s) for s in SIDES)


def spread(index: RegionIndex, how: str, site: str, side: str | None,
           listed: Iterable[str] = ()) -> tuple[Target, ...]:
    """Where an effect reaches from a site (see contraindications.yaml for the meanings)."""
    if how == "site":
        return target_side(index, site, side)
    if how == "whole_body" or (site == WHOLE_BODY and how in ("segment", "limb")):
        return ((WHOLE_BODY, None),)
    if how == "regions":
        return tuple(t for item in listed for t in target_side(index, item, side))
    members = index.members(site)
    if how in ("proximal", "toward_trunk"):
        # Along a limb only: a trunk site, a group or the whole body has nothing "toward the trunk"
        # that is not itself (planning policy §2).
        found = (limb_proximal if how == "proximal" else toward_trunk)(index, site) if site in index.regions else ()
        return tuple(t for region in found for t in target_side(index, region, side))
    if how == "limb" and all(index.regions[m].limb for m in members):
        limbs = dict.fromkeys(index.regions[m].limb for m in members)
        return tuple(t for limb in limbs if limb for t in target_side(index, limb, side))
    # A segment, or a "limb" around a midline site: the site's neighbours (the site itself is
    # covered by the stricter site effect of the same rule, or by the limb spread below).
    around = dict.fromkeys(n for m in members for n in index.regions[m].neighbours if n not in members)
    if how == "limb":
        around = dict.fromkeys([*members, *around])
    return tuple(t for region in around for t in target_side(index, region, side))


def toward_trunk(index: RegionIndex, region: str) -> tuple[str, ...]:
    """The limb's regions between a limb region and the trunk (regions.yaml ``from_trunk``)."""
    here = index.regions[region]
    if here.limb is None or here.from_trunk is None:
        return ()
    return tuple(r for r in index.groups[here.limb].regions
                 if (level := index.regions[r].from_trunk) is not None and level < here.from_trunk)


def limb_proximal(index: RegionIndex, region: str) -> tuple[str, ...]:
    """The next region toward the trunk along the same limb (regions.yaml ``proximal``), if any."""
    here = index.regions[region]
    found = here.proximal
    if here.limb is None or found is None or index.regions[found].limb != here.limb:
        return ()
    return (found,)


def covers(index: RegionIndex, target: str, target_side_: str | None, region: str, side: str | None) -> bool:
    """Does a restriction on (target, side) cover a plan item at (region, side)?"""
    if target == WHOLE_BODY:
        return True
    if target != region and region not in index.members(target):
        return False
    return target_side_ is None or target_side_ == side


def related(index: RegionIndex, region: str) -> tuple[str, ...]:
    """Muscle regions acting across a tendon, joint or bursa region; a muscular region is its own."""
    found = index.regions[region].muscles
    return found if found else (region,)


def surrounding(index: RegionIndex, region: str) -> tuple[str, ...]:
    """Around a site but not over it: its related muscle regions other than itself, else its neighbours."""
    around = tuple(r for r in related(index, region) if r != region)
    return around if around else index.regions[region].neighbours


def proximal(index: RegionIndex, region: str) -> tuple[str, ...]:
    """Toward the trunk: the proximal region of a limb region; a trunk or spine site is its own.

    Planning policy §2: for a site on the trunk or spine, light effleurage at the site itself is
    the proximal work (its neighbours are not "proximal"; the head never is for the neck).
    """
    found = index.regions[region].proximal
    return (found,) if found else (region,)


@dataclass(frozen=True, slots=True)
class SideProblem:
    """Why a side does not fit a place; ``code`` is the contract's error code for the CLI and API."""

    code: str  # missing_field | invalid_value
    message: str


def side_problem(index: RegionIndex, target: str, side: str | None) -> SideProblem | None:
    """The side rule, the one definition used by the request parser and every form.

    A paired region or group (a limb) needs ``left`` or ``right``; a midline region, the spine
    and trunk groups and the whole body take no side. ``None`` when the side fits.
    """
    label = _label(index, target)
    is_paired = target != WHOLE_BODY and index.is_paired(target)
    if side is not None and side not in SIDES:
        return SideProblem("invalid_value", f"Side must be left or right, not {side!r}.")
    if is_paired and side is None:
        return SideProblem("missing_field", f"{label} is paired: choose left or right.")
    if not is_paired and side is not None:
        return SideProblem("invalid_value", f"{label} is midline and takes no side: leave the side blank.")
    return None


def _label(index: RegionIndex, target: str) -> str:
    if target == WHOLE_BODY:
        return index.whole_body_label
    found = index.regions.get(target) or index.groups.get(target)
    return found.label if found is not None else target
