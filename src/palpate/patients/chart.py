"""The patient's chart is built from panels that the clinical apps above the patients provide.

The chart (``patients/detail.html``) belongs to this app, but what it shows of each episode
(evaluations, plan of care, visits, outcomes) and of the patient (open referrals) belongs to apps
that sit above it and may import it, never the other way round. So each of those apps adds its
panel here when Django starts (``AppConfig.ready``), and the chart draws whatever was added, in
``order``: ``{% load chart %}{% patient_panels patient %}`` and ``{% episode_panels episode %}``; the plan
of care's page likewise draws ``{% plan_panels plan %}`` (the schedule's booked / attended / remaining).

A panel is a template and a function ``(template context, patient or episode) -> its context``;
the function returns None to leave the panel out (a role that may not see it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

PanelContext = Callable[[Any, Any], "dict[str, Any] | None"]


@dataclass(frozen=True)
class Panel:
    name: str
    order: int
    template: str
    context: PanelContext


_PANELS: dict[str, dict[str, Panel]] = {"patient": {}, "episode": {}, "plan": {}}


def add_panel(where: str, name: str, order: int, template: str, context: PanelContext) -> None:
    """Add (or replace, by name) a panel to the chart: ``where`` is ``patient``, ``episode`` or ``plan``."""
    _PANELS[where][name] = Panel(name, order, template, context)


def panels(where: str) -> list[Panel]:
    return sorted(_PANELS[where].values(), key=lambda p: (p.order, p.name))
