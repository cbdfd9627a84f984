from __future__ import annotations

from django import template
from django.utils.safestring import SafeString

from palpate.lib.bodychart import LEGEND, render_body_chart

register = template.Library()


@register.simple_tag
def body_chart(marks=None, interactive=False, caption="Body chart", chart_id="bodychart") -> SafeString:  # noqa: ANN001
    """``{% body_chart marks interactive=True caption="Pain map" %}``"""
    return render_body_chart(marks, interactive=interactive, caption=caption, chart_id=chart_id)


@register.inclusion_tag("lib/_bodychart_legend.html")
def body_chart_legend(kinds: str = "forbidden,capped") -> dict[str, object]:
    return {"entries": [(k, LEGEND[k]) for k in kinds.split(",") if k in LEGEND]}
