"""What a therapist needs at the start of the day, in a fixed number of queries.

Every list is one query (with its joins), whatever the size of the clinic's history.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from palpate.clinics.actor import Actor
from palpate.clinics.roles import CLINICAL_VIEW
from palpate.evaluations.models import Referral
from palpate.lib.models_common import RecordStatus
from palpate.patients.models import EpisodeStatus
from palpate.plans.certification import LOOKAHEAD_DAYS
from palpate.plans.models import PlanOfCare
from palpate.visits.models import Visit

LIST_LIMIT = 25
PATIENT_NAME = ("patient__family_name", "patient__given_name")


@dataclass(frozen=True)
class TodayBoard:
    todays_visits: list[Visit]
    recent_visits: list[Visit]
    unsigned_notes: list[Visit]
    holds: list[Visit]
    open_referrals: list[Referral]
    reevaluations_due: list[PlanOfCare]
    plans_expiring: list[PlanOfCare]


def build_today(actor: Actor, today: dt.date | None = None) -> TodayBoard:
    today = today or dt.date.today()
    if not actor.can(CLINICAL_VIEW):
        # Front desk: no visit notes, safety holds, referral reasons or care-plan dates.
        return TodayBoard([], [], [], [], [], [], [])
    horizon = today + dt.timedelta(days=LOOKAHEAD_DAYS)
    # Only what the page shows: a visit or plan row also holds the core's whole answer as JSON.
    # A discharged episode leaves the start page (its record stays on the chart); open referrals
    # stay listed whatever the episode, as an unanswered referral is a safety matter.
    visits = (Visit.objects.filter(clinic=actor.clinic).exclude(episode__status=EpisodeStatus.DISCHARGED)
              .select_related("patient", "episode")
              .only("id", "patient_id", "episode_id", "visit_date", "status", *PATIENT_NAME, "episode__diagnosis"))
    active_signed_plans = (PlanOfCare.objects.filter(
        clinic=actor.clinic, status=RecordStatus.SIGNED, episode__status=EpisodeStatus.ACTIVE,
        superseded_by__isnull=True,
    ).select_related("patient").only("id", "patient_id", "reevaluate_by", "recertify_by", *PATIENT_NAME))
    mine = visits.filter(therapist=actor.user)
    return TodayBoard(
        todays_visits=list(visits.filter(visit_date=today).order_by("patient__family_name")[:LIST_LIMIT]),
        recent_visits=list(mine.filter(visit_date__lt=today).order_by("-visit_date", "-id")[:10]),
        unsigned_notes=list(mine.filter(status=RecordStatus.DRAFT).order_by("visit_date")[:LIST_LIMIT]),
        holds=list(
            visits.filter(session="hold", visit_date__gte=today - dt.timedelta(days=7))
            .order_by("-visit_date")[:LIST_LIMIT]
        ),
        open_referrals=list(
            Referral.objects.filter(clinic=actor.clinic, awaiting=True)
            .select_related("patient").only("id", "patient_id", "reason", "urgency", "status", "raised_on", *PATIENT_NAME)
            .order_by("raised_on")[:LIST_LIMIT]
        ),
        reevaluations_due=list(active_signed_plans.filter(reevaluate_by__lte=horizon).order_by("reevaluate_by")[:LIST_LIMIT]),
        plans_expiring=list(active_signed_plans.filter(recertify_by__lte=horizon).order_by("recertify_by")[:LIST_LIMIT]),
    )


def board_patient_ids(board: TodayBoard, others: list[Any]) -> list[int]:
    """Every patient the start page names, for the audit trail (sorted, once each)."""
    ids = {row.patient_id for name in board.__dataclass_fields__ for row in getattr(board, name)}
    ids |= {patient.pk for patient in others}
    return sorted(ids)
