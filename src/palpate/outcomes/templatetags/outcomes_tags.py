from __future__ import annotations

from django import template
from django.utils.safestring import SafeString

from palpate.core.measures.model import Scale
from palpate.outcomes.charts import ChartPoint, format_score, render_progress_chart
from palpate.outcomes.progress import EpisodeProgress, ScaleProgress, episode_progress

register = template.Library()


@register.inclusion_tag("outcomes/_episode_panel.html", takes_context=True)
def outcome_panel(context: template.Context, episode: object) -> dict[str, object]:
    """The episode's outcome measures on the patient chart: latest scores, responder status, signals."""
    can = context.get("can") or {}
    # Outcomes are clinical data: the front desk sees that the panel exists, not what is in it.
    progress = episode_progress(episode) if can.get("clinical_view") else None
    return {"episode": episode, "progress": progress, "can": can, "patient": context.get("patient")}


@register.filter
def score(value: float | None, scale: Scale | None = None) -> str:
    """``{{ m.score|score:sp.scale }}``: as the instrument reports it (ODI 44, not 44.44; see
    ``Scale.report``); without a scale, at most two decimals."""
    return format_score(value, scale)


@register.simple_tag
def instrument_score(instrument: str, scale_code: str | None, value: float | None) -> str:
    """``{% instrument_score m.instrument code value %}``: a stored score, rounded as its instrument reports it."""
    from palpate.core import measures

    try:
        found = measures.instrument(instrument).scale(scale_code) if scale_code else measures.instrument(instrument).scale()
    except (KeyError, ValueError, LookupError):
        found = None
    return format_score(value, found)


@register.simple_tag
def progress_chart(scale_progress: ScaleProgress, progress: EpisodeProgress, chart_id: str = "") -> SafeString:
    """``{% progress_chart sp progress %}``: the SVG chart of one scale, visit days marked."""
    scale = scale_progress.scale
    points = [ChartPoint(p.taken_on, p.score, band.label if (band := scale.band_for(p.score)) else "",
                         p.patient_reported) for p in scale_progress.points]
    return render_progress_chart(
        title=f"{scale_progress.label}: {scale.name}", points=points, low=scale.range[0], high=scale.range[1],
        better=scale.better.value, units=scale.units, mcid=scale.mcid.value, visit_dates=progress.visit_dates,
        chart_id=chart_id or f"chart-{scale_progress.key}", scale=scale,
    )


@register.filter
def responder_badge(status: object) -> str:
    """The CSS badge class for a responder status (its text is always printed next to it)."""
    return {"improved": "proceed", "worse": "hold", "no_important_change": "modify"}.get(str(status), "")


@register.filter
def words(code: object) -> str:
    """``no_important_change`` -> ``no important change``."""
    return str(code).replace("_", " ")
