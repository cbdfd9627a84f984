"""What a referral letter says.

Which finding or screen raised a referral, and how urgent it is, are the core's answer (stored on
the referral); the words for them are the one vocabulary's (``palpate.lib.vocabulary``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from palpate.evaluations.models import Referral
from palpate.lib.vocabulary import because_label, label
from palpate.patients.models import Patient


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
        "therapist_name": therapist.display_name(),
        # The signature: credentials and NPI from the therapist's profile, when they gave them.
        "therapist_credentials": therapist.credentials, "therapist_npi": therapist.npi,
        "today": today or timezone.localdate(),
        "reason_label": label(referral.reason, "referral_reason"), "urgency_label": label(referral.urgency, "urgency"),
    }
