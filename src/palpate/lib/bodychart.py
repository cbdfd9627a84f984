"""The body chart: front and back views as server-rendered SVG.

One renderer serves the evaluation's pain map (clickable), the screen result (forbidden and
capped regions) and printed PDFs. Marks are drawn with patterns and outlines as well as colour,
and every shape carries a text title, so the chart never relies on colour alone. Shapes carry
``data-region`` and ``data-side`` so the evaluation form's script can map a click to a row.

Views: in the front view the patient's right side is on the viewer's left; in the back view the
patient's left is on the viewer's left (as a therapist standing behind the patient sees it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from html import escape

from django.utils.safestring import SafeString, mark_safe

from palpate.lib.vocabulary import label

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
    """What to show on one region. ``kind``: forbidden, capped, pain or planned."""

    kind: str
    label: str
    intensity: int | None = None


# Drawn in this order of precedence when several marks fall on one region: safety first.
KIND_ORDER = ("forbidden", "capped", "pain", "planned")
LEGEND = {
    "forbidden": "Not to be treated (cross-hatched, solid outline)",
    "capped": "Pressure capped (dotted, dashed outline)",
    "pain": "Pain (shaded by intensity)",
    "planned": "Planned treatment (striped)",
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
        mark = _primary(marks.get((shape.region, shape.side)))
        fill, stroke, stroke_width, dash = _style(mark)
        label = region_label(shape.region, shape.side)
        title = f"{label} ({shape.view})" + (f": {mark.label}" if mark else "")
        attrs = (
            f'class="region{" " + mark.kind if mark else ""}" data-region="{shape.region}" data-side="{shape.side}"'
        )
        if interactive:
            attrs += f' tabindex="0" role="button" aria-label="{escape(title)}"'
        geometry = (
            f'<ellipse cx="{shape.x + shape.w / 2}" cy="{shape.y + shape.h / 2}" rx="{shape.w / 2}" ry="{shape.h / 2}"'
            if shape.kind == "ellipse"
            else f'<rect x="{shape.x}" y="{shape.y}" width="{shape.w}" height="{shape.h}" rx="3"'
        )
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(
            f"<g {attrs}><title>{escape(title)}</title>{geometry} fill=\"{fill}\" stroke=\"{stroke}\" "
            f'stroke-width="{stroke_width}"{dash_attr}/></g>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every dynamic value above is escaped


def _primary(value: Mark | Iterable[Mark] | None) -> Mark | None:
    if value is None or isinstance(value, Mark):
        return value
    ranked = sorted(value, key=lambda m: KIND_ORDER.index(m.kind) if m.kind in KIND_ORDER else len(KIND_ORDER))
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


def marks_from_restrictions(
    restrictions: Iterable[Mapping[str, object]], groups: Mapping[str, Iterable[str]], paired: set[str]
) -> dict[tuple[str, str], list[Mark]]:
    """The core's restrictions (``max_pressure`` none = forbidden, light/moderate = capped)."""
    marks: dict[tuple[str, str], list[Mark]] = {}
    for r in restrictions:
        max_pressure = str(r.get("max_pressure", "none"))
        techniques = list(r.get("techniques", []) or [])  # type: ignore[call-overload]
        because = ", ".join(label(str(b)).lower() for b in (r.get("because") or []))  # type: ignore[attr-defined]
        named = ", ".join(label(str(t)).lower() for t in techniques)
        if max_pressure == "none":
            kind, text = "forbidden", f"no {named} ({because})"
        else:
            kind, text = "capped", f"{label(max_pressure, 'pressure').lower()} pressure at most for {named} ({because})"
        for key in expand_regions(str(r.get("region")), r.get("side") and str(r.get("side")), groups, paired):
            marks.setdefault(key, []).append(Mark(kind, text))
    return marks


def marks_from_pain_map(pain_map: Iterable[Mapping[str, object]]) -> dict[tuple[str, str], Mark]:
    marks = {}
    for entry in pain_map:
        intensity = entry.get("intensity")
        quality = str(entry.get("quality") or "")
        key = (str(entry.get("region")), str(entry.get("side") or ""))
        level = int(intensity) if isinstance(intensity, int) else None
        marks[key] = Mark("pain", f"pain {level if level is not None else '?'}/10 {quality}".strip(), level)
    return marks
