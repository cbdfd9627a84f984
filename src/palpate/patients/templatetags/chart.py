"""``{% patient_panels patient %}``, ``{% episode_panels episode %}``, ``{% plan_panels plan %}``: see palpate.patients.chart."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString, mark_safe

from palpate.patients.chart import panels

register = template.Library()


def _render(context: template.Context, where: str, subject: Any) -> SafeString:
    parts = []
    for panel in panels(where):
        data = panel.context(context, subject)
        if data is None:
            continue
        # As an inclusion tag renders: a fresh context that keeps the page's render state.
        parts.append(context.template.engine.get_template(panel.template).render(context.new(data)))
    return mark_safe("".join(parts))  # noqa: S308 - each part is a rendered (auto-escaped) template


@register.simple_tag(takes_context=True)
def patient_panels(context: template.Context, patient: Any) -> SafeString:
    return _render(context, "patient", patient)


@register.simple_tag(takes_context=True)
def episode_panels(context: template.Context, episode: Any) -> SafeString:
    return _render(context, "episode", episode)


@register.simple_tag(takes_context=True)
def plan_panels(context: template.Context, plan: Any) -> SafeString:
    return _render(context, "plan", plan)
