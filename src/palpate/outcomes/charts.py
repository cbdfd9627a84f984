"""The progress chart of one measure, as server-rendered SVG for the screen and the PDF alike.

x is the date (visit days marked on the axis), y the score over the scale's whole range with the
better end labelled, a dashed baseline at the first score and the MCID band around it: a change
that stays inside the band is not clinically important. Everything is drawn with inline SVG
attributes (no stylesheet, no script), so WeasyPrint prints it exactly as the browser shows it.
Nothing relies on colour alone: the band and the baseline carry text labels and a legend, every
point carries its score as text, and ``<title>``/``<desc>`` describe the chart for screen readers.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING

from django.utils.safestring import SafeString, mark_safe

if TYPE_CHECKING:
    from palpate.core.measures.model import Scale

WIDTH, HEIGHT = 640, 320
LEFT, RIGHT, TOP, BOTTOM = 62, 20, 34, 90
PLOT_W, PLOT_H = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
INK, MUTED, ACCENT, BAND = "#1b2430", "#4d5a69", "#0b5cad", "#0b5cad"
FONT = 'font-family="DejaVu Sans, Arial, sans-serif"'
# Past this many points, only every n-th date is written under the axis so labels never overlap.
MAX_DATE_LABELS = 10


@dataclass(frozen=True)
class ChartPoint:
    taken_on: dt.date
    score: float
    note: str = ""  # e.g. the interpretation band, shown in the point's tooltip
    patient_reported: bool = False  # filled in by the patient at home: drawn as a square, not a dot


def format_score(value: float | None, scale: Scale | None = None) -> str:
    """A score as its instrument reports it (``Scale.report``: ODI 44, BCTQ 2.36); the stored value
    stays unrounded. Without a scale (an axis tick) at most two decimals (35.56, 32, 1.95)."""
    if value is None:
        return "—"
    if scale is not None:
        return scale.report(value)
    rounded = round(float(value), 2)
    return f"{rounded:.2f}".rstrip("0").rstrip(".") if not rounded.is_integer() else str(int(rounded))


def nice_step(span: float, target_ticks: int = 5) -> float:
    raw = span / target_ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def render_progress_chart(
    *,
    title: str,
    points: Sequence[ChartPoint],
    low: float,
    high: float,
    better: str,
    units: str,
    mcid: float | None,
    visit_dates: Sequence[dt.date] = (),
    chart_id: str = "progress",
    scale: Scale | None = None,
) -> SafeString:
    """``better`` is ``"lower"`` or ``"higher"``; ``points`` oldest first (valid scores only)."""
    cid = escape(chart_id)
    dates = [p.taken_on for p in points] + list(visit_dates)
    first, last = (min(dates), max(dates)) if dates else (dt.date.today(), dt.date.today())
    span_days = (last - first).days
    pad = max(1.0, span_days * 0.05) if span_days else 7.0
    x0, x1 = -pad, span_days + pad

    def x(day: dt.date) -> float:
        return round(LEFT + ((day - first).days - x0) / (x1 - x0) * PLOT_W, 1)

    def y(value: float) -> float:
        return round(TOP + (high - value) / (high - low) * PLOT_H, 1)

    baseline = points[0].score if points else None
    out = [
        f'<svg id="{cid}" class="progress-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-labelledby="{cid}-title {cid}-desc" {FONT}>',
        f'<title id="{cid}-title">{escape(title)}</title>',
        f'<desc id="{cid}-desc">{escape(_describe(title, points, better, units, mcid, visit_dates, scale))}</desc>',
        f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
        f'<text x="{LEFT}" y="18" font-size="13" font-weight="bold" fill="{INK}">{escape(title)}</text>',
        f'<text x="{WIDTH - RIGHT}" y="18" font-size="12" text-anchor="end" fill="{INK}">'
        f'{"↓ lower is better" if better == "lower" else "↑ higher is better"}</text>',
    ]

    # Grid and y axis.
    step = nice_step(high - low)
    tick = low
    while tick <= high + 1e-9:
        ty = y(tick)
        out.append(f'<line x1="{LEFT}" y1="{ty}" x2="{LEFT + PLOT_W}" y2="{ty}" stroke="#e3e9ef" stroke-width="1"/>')
        out.append(f'<text x="{LEFT - 6}" y="{ty + 4}" font-size="11" text-anchor="end" fill="{MUTED}">'
                   f'{format_score(tick)}</text>')
        tick += step
    mid_y = TOP + PLOT_H / 2
    out.append(f'<text x="14" y="{mid_y}" font-size="11" text-anchor="middle" fill="{MUTED}" '
               f'transform="rotate(-90 14 {mid_y})">{escape(units)}</text>')

    # The MCID band around the baseline, then the baseline itself.
    if baseline is not None and mcid:
        band_low, band_high = max(low, baseline - mcid), min(high, baseline + mcid)
        top_y, bottom_y = y(band_high), y(band_low)
        out.append(f'<g class="mcid-band"><title>MCID band: {format_score(band_low, scale)} to {format_score(band_high, scale)}'
                   f'</title><rect x="{LEFT}" y="{top_y}" width="{PLOT_W}" height="{round(bottom_y - top_y, 1)}" '
                   f'fill="{BAND}" fill-opacity="0.13" stroke="{BAND}" stroke-opacity="0.6" stroke-width="1" '
                   f'stroke-dasharray="2 3"/></g>')
        label_y = top_y + 12 if bottom_y - top_y >= 30 else top_y - 4
        out.append(f'<text x="{LEFT + PLOT_W - 4}" y="{label_y}" font-size="11" text-anchor="end" fill="{ACCENT}">'
                   f'MCID band: baseline ± {format_score(mcid, scale)} (no important change inside)</text>')
    if baseline is not None:
        by = y(baseline)
        out.append(f'<line class="baseline" x1="{LEFT}" y1="{by}" x2="{LEFT + PLOT_W}" y2="{by}" stroke="{INK}" '
                   f'stroke-width="1.5" stroke-dasharray="6 4"/>')
        out.append(f'<text x="{LEFT + 4}" y="{by + 14 if by + 14 < TOP + PLOT_H else by - 6}" font-size="11" '
                   f'fill="{INK}">Baseline {format_score(baseline, scale)}</text>')

    # Axes.
    axis_y = TOP + PLOT_H
    out.append(f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{axis_y}" stroke="{MUTED}" stroke-width="1"/>')
    out.append(f'<line x1="{LEFT}" y1="{axis_y}" x2="{LEFT + PLOT_W}" y2="{axis_y}" stroke="{MUTED}" stroke-width="1"/>')

    # Visit days: small triangles on the x axis.
    for day in sorted(set(visit_dates)):
        vx = x(day)
        out.append(f'<g class="visit-mark"><title>Visit {day.isoformat()}</title><path d="M{vx} {axis_y - 1} '
                   f'l-5 9 h10 z" fill="{MUTED}"/></g>')

    # Dates of the scores under the axis.
    every = max(1, math.ceil(len(points) / MAX_DATE_LABELS))
    for index, point in enumerate(points):
        if index % every and index != len(points) - 1:
            continue
        px, ly = x(point.taken_on), axis_y + 18
        out.append(f'<text x="{px}" y="{ly}" font-size="10" text-anchor="end" fill="{MUTED}" '
                   f'transform="rotate(-35 {px} {ly})">{point.taken_on.isoformat()}</text>')

    # The scores: a line, then each point with its value written above it.
    if len(points) > 1:
        path = " ".join(f"{x(p.taken_on)},{y(p.score)}" for p in points)
        out.append(f'<polyline points="{path}" fill="none" stroke="{ACCENT}" stroke-width="2"/>')
    for point in points:
        px, py = x(point.taken_on), y(point.score)
        tooltip = f"{point.taken_on.isoformat()}: {format_score(point.score, scale)}" + (f" ({point.note})" if point.note else "")
        if point.patient_reported:
            tooltip += ", reported by the patient at home"
        label_y = py - 9 if py - 9 > TOP + 4 else py + 18
        marker = (f'<rect x="{px - 4.5}" y="{py - 4.5}" width="9" height="9" fill="#ffffff" stroke="{ACCENT}" '
                  f'stroke-width="2"/>' if point.patient_reported else
                  f'<circle cx="{px}" cy="{py}" r="4.5" fill="{ACCENT}" stroke="#ffffff" stroke-width="1.5"/>')
        out.append(f'<g class="point{" patient-reported" if point.patient_reported else ""}"><title>{escape(tooltip)}</title>'
                   f'{marker}'
                   f'<text x="{px}" y="{label_y}" font-size="11" font-weight="bold" text-anchor="middle" '
                   f'fill="{INK}">{format_score(point.score, scale)}</text></g>')
    if not points:
        out.append(f'<text x="{LEFT + PLOT_W / 2}" y="{mid_y}" font-size="13" text-anchor="middle" fill="{MUTED}">'
                   "No score yet</text>")

    out.append(_legend(HEIGHT - 8, has_band=bool(baseline is not None and mcid),
                       has_reported=any(p.patient_reported for p in points)))
    out.append("</svg>")
    return mark_safe("".join(out))  # noqa: S308 - every dynamic text above is escaped or a number


def _legend(ly: float, *, has_band: bool, has_reported: bool = False) -> str:
    parts = [f'<g class="legend" font-size="11" fill="{INK}">',
             f'<circle cx="{LEFT + 5}" cy="{ly - 4}" r="4.5" fill="{ACCENT}"/>',
             f'<text x="{LEFT + 14}" y="{ly}">score</text>',
             f'<line x1="{LEFT + 64}" y1="{ly - 4}" x2="{LEFT + 92}" y2="{ly - 4}" stroke="{INK}" stroke-width="1.5" '
             f'stroke-dasharray="6 4"/>',
             f'<text x="{LEFT + 98}" y="{ly}">baseline</text>']
    if has_band:
        parts += [f'<rect x="{LEFT + 168}" y="{ly - 10}" width="22" height="12" fill="{BAND}" fill-opacity="0.13" '
                  f'stroke="{BAND}" stroke-opacity="0.6" stroke-dasharray="2 3"/>',
                  f'<text x="{LEFT + 196}" y="{ly}">MCID band</text>']
    parts += [f'<path d="M{LEFT + 290} {ly - 10} l-5 9 h10 z" fill="{MUTED}"/>',
              f'<text x="{LEFT + 300}" y="{ly}">visit day</text>']
    if has_reported:
        parts += [f'<rect x="{LEFT + 370}" y="{ly - 8.5}" width="9" height="9" fill="#ffffff" stroke="{ACCENT}" '
                  f'stroke-width="2"/>', f'<text x="{LEFT + 384}" y="{ly}">reported by the patient</text>']
    parts.append("</g>")
    return "".join(parts)


def _describe(title: str, points: Sequence[ChartPoint], better: str, units: str, mcid: float | None,
              visit_dates: Sequence[dt.date], scale: Scale | None = None) -> str:
    if not points:
        return f"{title}: no score yet."
    first, latest = points[0], points[-1]
    text = (f"{len(points)} score{'s' if len(points) != 1 else ''} in {units}, {better} is better. "
            f"Baseline {format_score(first.score, scale)} on {first.taken_on.isoformat()}")
    if len(points) > 1:
        text += f", latest {format_score(latest.score, scale)} on {latest.taken_on.isoformat()}"
    text += "."
    if mcid:
        text += f" MCID band: baseline plus or minus {format_score(mcid, scale)}."
    if visit_dates:
        text += f" {len(set(visit_dates))} visit day{'s' if len(set(visit_dates)) != 1 else ''} marked."
    return text
