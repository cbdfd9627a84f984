"""The body chart: front and back views as server-rendered SVG.

One renderer serves the evaluation's pain map (clickable), the screen result and printed PDFs.
A screen result is drawn one way everywhere (evaluation, plan editor and page, visit note and
every PDF: :func:`screen_marks`): blocked regions cross-hatched (class ``forbidden``), capped
regions dotted with the cap named in the title (class ``capped``), planned or recorded treatment
striped (class ``planned``), the stripes drawn over a restriction's pattern so neither hides the
other. Marks are drawn with patterns and outlines as well as colour,
and every shape carries a text title, so the chart never relies on colour alone. Shapes carry
``data-region`` and ``data-side`` so the evaluation form's script can map a click to a row.

Views: in the front view the patient's right side is on the viewer's left; in the back view the
patient's left is on the viewer's left (as a therapist standing behind the patient sees it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from html import escape
from typing import Any

from django.utils.safestring import SafeString, mark_safe

from palpate.core.kb.clinical import RANK, knowledge_base
from palpate.core.safety import effective_restrictions
from palpate.core.vocabulary import join_or
from palpate.lib.vocabulary import label, paired_regions, region_groups

VIEW_WIDTH = 200
VIEW_GAP = 40

# (region, side) -> (shape, x, y, w, h) in the front view with the patient's right at viewer-left.
# Ellipses use x, y as the top-left of their bounding box.
_FRONT_RIGHT = {
    "shoulder": ("ellipse", 44, 66, 24, 24),
    "upper_arm": ("rect", 40, 90, 16, 50),
    "elbow": ("rect", 38, 140, 18, 14),
    "forearm": ("rect", 34, 154, 18, 46),
    "wrist": ("rect", 32, 200, 18, 10),
    "hand": ("rect", 28, 210, 22, 28),
    "hip": ("rect", 70, 195, 28, 20),
    "thigh": ("rect", 70, 215, 28, 75),
    "knee": ("rect", 72, 290, 24, 22),
    "calf": ("rect", 73, 312, 22, 70),
    "ankle": ("rect", 74, 382, 20, 12),
    "foot": ("rect", 70, 394, 26, 20),
}
_FRONT_MIDLINE = {
    "head": ("ellipse", 78, 4, 44, 52),
    "neck": ("rect", 90, 56, 20, 14),
    "chest": ("rect", 66, 70, 68, 55),
    "abdomen": ("rect", 70, 125, 60, 45),
    "pelvis": ("rect", 70, 170, 60, 25),
}
_BACK_LEFT = {k: v for k, v in _FRONT_RIGHT.items() if k != "hip"} | {"gluteal": ("rect", 70, 175, 29, 40)}
_BACK_MIDLINE = {
    "head": ("ellipse", 78, 4, 44, 52),
    "neck": ("rect", 90, 56, 20, 14),
    "upper_back": ("rect", 66, 70, 68, 65),
    "lower_back": ("rect", 70, 135, 60, 40),
}


@dataclass(frozen=True)
class Shape:
    region: str
    side: str  # "" for midline
    view: str  # "front" | "back"
    kind: str
    x: float
    y: float
    w: float
    h: float


def _mirror(x: float, w: float) -> float:
    return VIEW_WIDTH - x - w


def _shapes() -> list[Shape]:
    shapes: list[Shape] = []
    for view, midline, paired, near_side in (
        ("front", _FRONT_MIDLINE, _FRONT_RIGHT, "right"),
        ("back", _BACK_MIDLINE, _BACK_LEFT, "left"),
    ):
        offset = 0 if view == "front" else VIEW_WIDTH + VIEW_GAP
        for region, (kind, x, y, w, h) in midline.items():
            shapes.append(Shape(region, "", view, kind, x + offset, y, w, h))
        far_side = "left" if near_side == "right" else "right"
        for region, (kind, x, y, w, h) in paired.items():
            shapes.append(Shape(region, near_side, view, kind, x + offset, y, w, h))
            shapes.append(Shape(region, far_side, view, kind, _mirror(x, w) + offset, y, w, h))
    return shapes


SHAPES = _shapes()
CHARTED_REGIONS = sorted({(s.region, s.side) for s in SHAPES})


@dataclass(frozen=True)
class Mark:
    """What to show on one region. ``kind``: forbidden (blocked), capped, pain or planned."""

    kind: str
    label: str
    intensity: int | None = None


# Drawn in this order of precedence when several marks fall on one region: safety first. A planned
# mark is never hidden by a safety mark: its stripes are drawn over the region's own pattern.
KIND_ORDER = ("forbidden", "capped", "pain", "planned")
LEGEND = {
    "forbidden": "Not to be treated (cross-hatched, solid outline): blocked, nothing may be done there",
    "capped": "Pressure capped (dotted, dashed outline): some techniques or pressures limited, the cap named on "
              "the region",
    "pain": "Pain (shaded by intensity)",
    "planned": "Planned treatment (striped), drawn over any restriction",
}

_DEFS = """<defs>
<pattern id="pp-hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
<rect width="6" height="6" fill="#f6c7c7"/><line x1="0" y1="0" x2="0" y2="6" stroke="#a4161a" stroke-width="2.2"/></pattern>
<pattern id="pp-hatch2" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(-45)">
<line x1="0" y1="0" x2="0" y2="6" stroke="#a4161a" stroke-width="2.2"/></pattern>
<pattern id="pp-dots" width="6" height="6" patternUnits="userSpaceOnUse">
<rect width="6" height="6" fill="#ffe9b8"/><circle cx="3" cy="3" r="1.4" fill="#8a5300"/></pattern>
<pattern id="pp-stripes" width="8" height="8" patternUnits="userSpaceOnUse">
<rect width="8" height="8" fill="#d6e6f7"/><rect width="8" height="3" fill="#0b5cad"/></pattern>
<pattern id="pp-stripes-over" width="8" height="8" patternUnits="userSpaceOnUse">
<rect width="8" height="2.5" fill="#0b5cad"/></pattern>
</defs>"""


def _pain_fill(intensity: int | None) -> str:
    level = 5 if intensity is None else max(0, min(10, intensity))
    # Lighter to darker as pain rises; the number is also printed in the title.
    lightness = 92 - level * 5
    return f"hsl(12, 80%, {lightness}%)"


def _style(mark: Mark | None) -> tuple[str, str, str, str]:
    """(fill, stroke, stroke-width, dasharray) for a mark."""
    if mark is None:
        return "#f1f3f5", "#6b7785", "1", ""
    if mark.kind == "forbidden":
        return "url(#pp-hatch)", "#a4161a", "3", ""
    if mark.kind == "capped":
        return "url(#pp-dots)", "#8a5300", "2.5", "5 3"
    if mark.kind == "pain":
        return _pain_fill(mark.intensity), "#7a2e12", "1.5", ""
    return "url(#pp-stripes)", "#0b5cad", "2", ""


def region_label(region: str, side: str) -> str:
    """A shape's place in words, short enough for a tooltip: "left calf", "upper back"."""
    name = label(region).split(" (")[0].lower()
    return f"{side} {name}" if side else name


def render_body_chart(
    marks: Mapping[tuple[str, str], Mark | Iterable[Mark]] | None = None,
    *,
    interactive: bool = False,
    caption: str = "Body chart",
    chart_id: str = "bodychart",
) -> SafeString:
    """The chart with its marks. A region with a safety mark (blocked or capped) and a planned one
    is drawn with the safety pattern and the planned stripes over it, and both in its title."""
    marks = marks or {}
    width = VIEW_WIDTH * 2 + VIEW_GAP
    parts = [
        f'<svg id="{escape(chart_id)}" class="bodychart" viewBox="0 0 {width} 440" role="group" '
        f'aria-label="{escape(caption)}" xmlns="http://www.w3.org/2000/svg" width="{width}" height="440">',
        f"<title>{escape(caption)}</title>",
        _DEFS,
        f'<text x="{VIEW_WIDTH / 2}" y="436" text-anchor="middle" font-size="12" fill="#4d5a69">Front</text>',
        f'<text x="{VIEW_WIDTH * 1.5 + VIEW_GAP}" y="436" text-anchor="middle" font-size="12" fill="#4d5a69">Back</text>',
        f'<text x="6" y="14" font-size="10" fill="#4d5a69">R</text><text x="{VIEW_WIDTH - 12}" y="14" font-size="10" fill="#4d5a69">L</text>',
        f'<text x="{VIEW_WIDTH + VIEW_GAP + 6}" y="14" font-size="10" fill="#4d5a69">L</text>'
        f'<text x="{width - 12}" y="14" font-size="10" fill="#4d5a69">R</text>',
    ]
    for shape in SHAPES:
        here = _as_list(marks.get((shape.region, shape.side)))
        mark = _primary(here)
        planned = [m for m in here if m.kind == "planned"]
        fill, stroke, stroke_width, dash = _style(mark)
        place = region_label(shape.region, shape.side)
        words = [m.label for m in sorted(here, key=_rank)]
        title = f"{place} ({shape.view})" + (f": {'; '.join(dict.fromkeys(words))}" if words else "")
        kinds = [mark.kind] if mark else []
        if planned and mark is not None and mark.kind != "planned":
            kinds.append("planned")
        attrs = f'class="{" ".join(["region", *kinds])}" data-region="{shape.region}" data-side="{shape.side}"'
        if interactive:
            attrs += f' tabindex="0" role="button" aria-label="{escape(title)}"'
        geometry = _geometry(shape)
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        overlay = ""
        if "planned" in kinds and mark is not None and mark.kind != "planned":
            # The planned stripes over the restriction's own pattern: both stay visible.
            overlay = (f'{geometry} class="planned-overlay" fill="url(#pp-stripes-over)" stroke="#0b5cad" '
                       f'stroke-width="1" pointer-events="none"/>')
        parts.append(
            f"<g {attrs}><title>{escape(title)}</title>{geometry} fill=\"{fill}\" stroke=\"{stroke}\" "
            f'stroke-width="{stroke_width}"{dash_attr}/>{overlay}</g>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every dynamic value above is escaped


def _geometry(shape: Shape) -> str:
    if shape.kind == "ellipse":
        return (f'<ellipse cx="{shape.x + shape.w / 2}" cy="{shape.y + shape.h / 2}" rx="{shape.w / 2}" '
                f'ry="{shape.h / 2}"')
    return f'<rect x="{shape.x}" y="{shape.y}" width="{shape.w}" height="{shape.h}" rx="3"'


def _rank(mark: Mark) -> int:
    return KIND_ORDER.index(mark.kind) if mark.kind in KIND_ORDER else len(KIND_ORDER)


def _as_list(value: Mark | Iterable[Mark] | None) -> list[Mark]:
    if value is None:
        return []
    if isinstance(value, Mark):
        return [value]
    return list(value)


def _primary(value: Mark | Iterable[Mark] | None) -> Mark | None:
    ranked = sorted(_as_list(value), key=_rank)
    return ranked[0] if ranked else None


def expand_regions(region: str, side: str | None, groups: Mapping[str, Iterable[str]], paired: set[str]) -> list[tuple[str, str]]:
    """A finding or restriction may name a region, a group or whole_body; list the charted pairs."""
    if region == "whole_body":
        return list(CHARTED_REGIONS)
    members = list(groups.get(region, [region]))
    out = []
    for member in members:
        if member in paired:
            sides = [side] if side in ("left", "right") else ["left", "right"]
            out += [(member, s) for s in sides]
        else:
            out.append((member, ""))
    return out


# -- a screen result on the chart: the one drawing for every page and PDF ------------------------


def restriction_marks(restrictions: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], Mark]:
    """One safety mark per charted region from the core's restrictions (``core.safety`` shape).

    A region is *blocked* (kind ``forbidden``, cross-hatched) when every soft-tissue technique is
    forbidden there, and *capped* (dotted) when anything is limited there: some techniques forbidden
    or capped at a pressure, exercise or therapies not allowed. The label names the cap per technique
    at that region, whichever restrictions set it ("light pressure at most for effleurage, petrissage
    or myofascial release; no friction or trigger point (anticoagulant therapy)"), so a whole-body
    pressure cap is never drawn as "not to be treated". A held session (``core.safety.
    effective_restrictions``) blocks everything.
    """
    kb = knowledge_base()
    groups, paired = region_groups(), set(paired_regions())
    techniques = list(kb.techniques)
    caps: dict[tuple[str, str], dict[str, tuple[str, set[str]]]] = {}
    other: dict[tuple[str, str], list[str]] = {}
    held: dict[tuple[str, str], set[str]] = {}
    whole: dict[tuple[str, str], set[str]] = {}  # why a single restriction blocks every technique there
    for r in restrictions:
        because = {str(b) for b in r.get("because") or ()}
        cap = str(r.get("max_pressure") or "none")
        side = str(r["side"]) if r.get("side") else None
        for key in expand_regions(str(r.get("region")), side, groups, paired):
            if r.get("hold"):
                held.setdefault(key, set()).update(because)
            if cap == "none" and set(techniques) <= {str(t) for t in r.get("techniques") or ()}:
                whole.setdefault(key, set()).update(because)
            at = caps.setdefault(key, {})
            for technique in r.get("techniques") or ():
                current, why = at.get(str(technique), ("deep", set()))
                if RANK.get(cap, 0) < RANK[current]:
                    at[str(technique)] = (cap, set(because))
                elif RANK.get(cap, 0) == RANK[current]:
                    why.update(because)
            notes = other.setdefault(key, [])
            if r.get("exercise"):
                notes.append("no exercise that moves or loads it")
            therapies = [label(str(t)).lower() for t in r.get("therapies") or ()]
            if therapies:
                notes.append(f"no {join_or(therapies)}")
            if not r.get("techniques") and not r.get("exercise") and not therapies:
                notes.append("restricted")
            if notes and because:
                notes[-1] += f" ({_because(because)})"
    out: dict[tuple[str, str], Mark] = {}
    for key in sorted(set(caps) | set(other)):
        at = caps.get(key, {})
        notes = list(dict.fromkeys(other.get(key, [])))
        if key in held:
            out[key] = Mark("forbidden", f"blocked: session held, nothing until the referral is answered "
                                         f"({_because(held[key])})")
            continue
        if at and all(at.get(t, ("deep", set()))[0] == "none" for t in techniques):
            # Name what blocks the region (a wound), not a cap it also lies under (anticoagulants).
            because = whole.get(key) or set().union(*(why for _, why in at.values()))
            out[key] = Mark("forbidden", "; ".join([f"blocked: no soft-tissue work ({_because(because)})", *notes]))
            continue
        words = []
        by_cap: dict[str, list[str]] = {}
        reasons: dict[str, set[str]] = {}
        for technique in techniques:
            if technique in at and at[technique][0] != "deep":
                by_cap.setdefault(at[technique][0], []).append(technique)
                reasons.setdefault(at[technique][0], set()).update(at[technique][1])
        for cap in sorted(by_cap, key=lambda c: RANK.get(c, 0)):
            named = join_or([label(t).lower() for t in by_cap[cap]])
            text = f"no {named}" if cap == "none" else f"{label(cap, 'pressure').lower()} pressure at most for {named}"
            words.append(f"{text} ({_because(reasons[cap])})")
        if words or notes:
            out[key] = Mark("capped", "capped: " + "; ".join([*words, *notes]))
    return out


def planned_marks(items: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], list[Mark]]:
    """Striped marks for planned or recorded soft-tissue items ``{"technique", "region", "side",
    "pressure", "minutes"?}`` (a plan's items, a visit's treatment rows)."""
    groups, paired = region_groups(), set(paired_regions())
    marks: dict[tuple[str, str], list[Mark]] = {}
    for item in items:
        minutes = f", {item['minutes']} min" if item.get("minutes") else ""
        text = (f"planned: {label(str(item.get('technique')), 'technique').lower()}, "
                f"{label(str(item.get('pressure')), 'pressure').lower()}{minutes}")
        for key in expand_regions(str(item.get("region")), str(item.get("side") or "") or None, groups, paired):
            marks.setdefault(key, []).append(Mark("planned", text))
    return marks


def screen_marks(screen: Mapping[str, Any] | None,
                 items: Iterable[Mapping[str, Any]] = ()) -> dict[tuple[str, str], list[Mark]]:
    """A screen result (its restrictions, a held session as a whole-body block) and the items
    planned or recorded under it: the marks every page and PDF draws (evaluation, plan, visit)."""
    marks: dict[tuple[str, str], list[Mark]] = {
        key: [mark] for key, mark in restriction_marks(effective_restrictions(screen or {})).items()}
    for key, planned in planned_marks(items).items():
        marks.setdefault(key, []).extend(planned)
    return marks


def render_screen_chart(screen: Mapping[str, Any] | None, items: Iterable[Mapping[str, Any]] = (), *,
                        caption: str = "Body chart: where treatment is restricted", chart_id: str = "screen-chart",
                        interactive: bool = False) -> SafeString:
    """The one drawing of a screen result, with what is planned under it."""
    return render_body_chart(screen_marks(screen, items), caption=caption, chart_id=chart_id, interactive=interactive)


def _because(codes: Iterable[str]) -> str:
    return ", ".join(label(str(b)).lower() for b in sorted(codes))


def marks_from_pain_map(pain_map: Iterable[Mapping[str, object]]) -> dict[tuple[str, str], Mark]:
    marks = {}
    for entry in pain_map:
        intensity = entry.get("intensity")
        quality = str(entry.get("quality") or "")
        key = (str(entry.get("region")), str(entry.get("side") or ""))
        level = int(intensity) if isinstance(intensity, int) else None
        marks[key] = Mark("pain", f"pain {level if level is not None else '?'}/10 {quality}".strip(), level)
    return marks
