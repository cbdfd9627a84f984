"""Words for referrals and the screen result, and what a referral letter says.

Labels only: which finding or screen raised a referral, and how urgent it is, are the core's
answer (stored on the referral); this module turns codes into sentences a physician can read.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from palpate.evaluations.forms import finding_label, humanize, ottawa_label, region_labels
from palpate.evaluations.models import Referral
from palpate.patients.models import Patient

REASON_LABELS = {
    "suspected_dvt": "Suspected deep vein thrombosis",
    "cauda_equina": "Possible cauda equina syndrome",
    "suspected_fracture": "Suspected fracture",
    "fever_or_infection": "Fever or infection",
    "uncontrolled_hypertension": "Uncontrolled hypertension",
    "oncology_clearance": "Oncology clearance before soft-tissue work",
    "red_flag_spine": "Spinal red flag",
    "obstetric_clearance": "Obstetric clearance before soft-tissue work",
    "neurological_deficit": "Neurological deficit",
    "unexplained_pain": "New, unexplained pain",
}
URGENCY_LABELS = {
    "emergency": "Emergency: now",
    "same_day": "Same day",
    "routine": "Routine",
}
SESSION_LABELS = {
    "proceed": "Proceed",
    "modify": "Modify",
    "hold": "Hold",
}
SESSION_MEANINGS = {
    "proceed": "no restriction changed today's soft-tissue plan",
    "modify": "restrictions change what would otherwise be done",
    "hold": "no soft-tissue work today",
}
PRESSURE_WORDS = {"none": "not at all", "light": "light pressure at most", "moderate": "moderate pressure at most"}


def reason_label(code: str) -> str:
    return REASON_LABELS.get(code) or humanize(code)


def urgency_label(code: str) -> str:
    return URGENCY_LABELS.get(code) or humanize(code)


def because_label(code: str) -> str:
    """A finding code, or a screen the core names as the reason (``ottawa_ankle``, ``wells_2003_likely``)."""
    if code.startswith("ottawa_"):
        try:
            return f"{ottawa_label(code)} positive"
        except KeyError:
            return humanize(code)
    if code.startswith("wells_"):
        parts = code.split("_")
        if len(parts) >= 3:
            return f"Wells {parts[1]} score: DVT {' '.join(parts[2:])}"
    return finding_label(code)


def place_label(region: str | None, side: str | None) -> str:
    if not region:
        return "Whole body"
    name = region_labels().get(region, humanize(region))
    if region == "whole_body":
        return name
    return f"{side.capitalize()} {name[:1].lower()}{name[1:]}" if side else name


def letter_context(patient: Patient, referral: Referral, clinic: Any, today: dt.date | None = None) -> dict[str, Any]:
    """Everything the referral letter (HTML and PDF) shows."""
    evaluation = referral.evaluation
    screen = (evaluation.screen_result if evaluation else {}) or {}
    triggers = set(referral.because or [])
    active = screen.get("findings") or []
    # The facts behind this referral first (with the core's detail, e.g. the temperature measured),
    # then everything else the screen found, so the physician sees the whole picture.
    triggering = [f for f in active if f.get("code") in triggers]
    other = [f for f in active if f.get("code") not in triggers]
    episode = referral.episode
    therapist = referral.raised_by
    return {
        "patient": patient, "referral": referral, "episode": episode, "evaluation": evaluation, "clinic": clinic,
        "screen": screen or None, "triggering": triggering, "other_findings": other,
        "because": [because_label(code) for code in referral.because or []],
        "addressee": episode.referral_source or "The patient's physician",
        "therapist_name": therapist.get_full_name() or therapist.get_username(),
        "today": today or timezone.localdate(),
        "reason_label": reason_label(referral.reason), "urgency_label": urgency_label(referral.urgency),
    }
