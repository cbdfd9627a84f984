"""Evaluation pieces other pages reuse.

- ``{% evaluation_panel episode %}``: the episode's evaluations on the patient chart.
- ``{% open_referrals patient %}``: a patient's open referrals (open or letter sent), one query.
- ``{% include "evaluations/_screen_result.html" with screen=... %}`` draws a screen result; it uses
  ``{% screen_chart screen %}`` (lib's one drawing of a screen on the body chart) and the
  vocabulary's words.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.db.models.fields.json import KT

from palpate.evaluations.models import OPEN_REFERRAL_STATUSES, POSTURE_FINDINGS, Evaluation, Referral
from palpate.lib.vocabulary import label

register = template.Library()


@register.inclusion_tag("evaluations/_episode_panel.html", takes_context=True)
def evaluation_panel(context: template.Context, episode: Any) -> dict[str, object]:
    """The episode's evaluations on the patient chart: status, screen badge, open referrals, actions."""
    can = context.get("can") or {}
    if not can.get("clinical_view"):
        # Front desk sees that the episode exists, not its screen results or referrals.
        return {"episode": episode, "hidden": True, "can": can, "patient": context.get("patient")}
    evaluations = list(
        Evaluation.objects.filter(clinic_id=episode.clinic_id, episode=episode)
        .annotate(session=KT("screen_result__session"))
        .only("id", "performed_on", "status", "suggested_code", "clinic_id", "episode_id", "patient_id")
    )
    open_referrals = list(Referral.objects.filter(clinic_id=episode.clinic_id, episode=episode,
                                                  status__in=OPEN_REFERRAL_STATUSES).order_by("raised_on", "id"))
    return {"episode": episode, "evaluations": evaluations, "open_referrals": open_referrals,
            "can": context.get("can"), "patient": context.get("patient")}


@register.inclusion_tag("evaluations/_open_referrals.html", takes_context=True)
def open_referrals(context: template.Context, patient: Any, heading: str = "Open referrals") -> dict[str, object]:
    """A patient's referrals still waiting on a physician, most urgent first."""
    referrals = list(Referral.objects.filter(clinic_id=patient.clinic_id, patient=patient,
                                             status__in=OPEN_REFERRAL_STATUSES).order_by("raised_on", "id"))
    rank = {"emergency": 0, "same_day": 1, "routine": 2}
    referrals.sort(key=lambda r: rank.get(r.urgency, 3))
    request = context.get("request")
    return {"patient": patient, "referrals": referrals, "can": context.get("can"), "heading": heading,
            "here": request.get_full_path() if request is not None else ""}


def referrals_card(context: template.Context, patient: Any) -> dict[str, object] | None:
    """The chart's card of open referrals: clinical staff only (a panel, see palpate.patients.chart)."""
    if not (context.get("can") or {}).get("clinical_view"):
        return None
    return open_referrals(context, patient)


@register.filter
def posture_label(code: str) -> str:
    return dict(POSTURE_FINDINGS).get(str(code), label(str(code)))
