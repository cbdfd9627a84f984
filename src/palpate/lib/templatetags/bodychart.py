"""The body chart in templates.

- ``{% body_chart marks interactive=True caption="Pain map" %}``: any marks (the pain map).
- ``{% screen_chart screen items chart_id="plan-chart" caption=... interactive=False %}``: a screen
  result and what is planned or recorded under it, the one drawing every page and PDF uses
  (``palpate.lib.bodychart.screen_marks``).
- ``{% body_chart_legend "forbidden,capped,planned" %}``: the legend of those kinds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django import template
from django.utils.safestring import SafeString

from palpate.lib.bodychart import LEGEND, render_body_chart, render_screen_chart

register = template.Library()


@register.simple_tag
def body_chart(marks=None, interactive=False, caption="Body chart", chart_id="bodychart") -> SafeString:  # noqa: ANN001
    """``{% body_chart marks interactive=True caption="Pain map" %}``"""
    return render_body_chart(marks, interactive=interactive, caption=caption, chart_id=chart_id)


@register.simple_tag
def screen_chart(screen: Mapping[str, Any] | None, items: Iterable[Mapping[str, Any]] | None = None,
                 chart_id: str = "screen-chart", caption: str = "Body chart: where treatment is restricted",
                 interactive: bool = False) -> SafeString:
    """A screen result (blocked cross-hatched, capped dotted with the cap named) and the items
    planned or recorded under it (striped)."""
    return render_screen_chart(screen, items or (), caption=caption, chart_id=chart_id, interactive=interactive)


@register.inclusion_tag("lib/_bodychart_legend.html")
def body_chart_legend(kinds: str = "forbidden,capped") -> dict[str, object]:
    return {"entries": [(k, LEGEND[k]) for k in kinds.split(",") if k in LEGEND]}
