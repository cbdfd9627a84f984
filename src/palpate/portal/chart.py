"""The patient chart's portal panel (``palpate.patients.chart``): warning signs waiting, the patient's
access, the last check-ins, home-programme adherence and questionnaires at home. A fixed number of
queries per patient (two more, and one per active plan of care, for a patient who signs in)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from palpate.core import measures
from palpate.core.warning_signs import sign as warning_sign
from palpate.lib.models_common import RecordStatus
from palpate.patients.models import EpisodeStatus
from palpate.plans.models import PlanOfCare
from palpate.plans.services import pick_current
from palpate.portal.models import PortalAccount, QuestionnaireAssignment, WarningFlag
from palpate.reported.models import CheckIn
from palpate.reported.services import Adherence, adherence, sign_words

ADHERENCE_DAYS = 7
CHECK_INS_SHOWN = 3


def flag_rows(flags: list[WarningFlag]) -> list[dict[str, Any]]:
    rows = []
    for flag in flags:
        item = warning_sign(flag.sign)
        side = {"left": "left leg", "right": "right leg", "both": "both legs"}.get(flag.side, "")
        rows.append({"flag": flag, "label": item.therapist_label, "side": side, "advice": item.advice,
                     "cited": item.cited(), "emergency": flag.urgency == "emergency"})
    return rows


def plan_adherence(patient: Any, today: dt.date) -> list[tuple[PlanOfCare, Adherence]]:
    plans = list(PlanOfCare.objects.filter(clinic_id=patient.clinic_id, patient=patient, status=RecordStatus.SIGNED,
                                           superseded_by__isnull=True, episode__status=EpisodeStatus.ACTIVE)
                 .select_related("episode").only("id", "clinic_id", "patient_id", "episode_id", "status", "signed_at",
                                                  "start_date", "home_program", "superseded_by_id",
                                                  "episode__diagnosis"))
    by_episode: dict[int, list[PlanOfCare]] = {}
    for plan in plans:
        by_episode.setdefault(plan.episode_id, []).append(plan)
    out = []
    for episode_plans in by_episode.values():
        current = pick_current(episode_plans)
        found = adherence(current, today - dt.timedelta(days=ADHERENCE_DAYS), today, today=today) if current else None
        if current is not None and found is not None:
            out.append((current, found))
    return out


def portal_panel(context: Any, patient: Any) -> dict[str, Any] | None:
    can = context.get("can") or {}
    if not can.get("patient_view"):
        return None
    clinical = bool(can.get("clinical_view"))
    today = timezone.localdate()
    account = PortalAccount.objects.filter(clinic_id=patient.clinic_id, patient=patient).first()
    data: dict[str, Any] = {"patient": patient, "account": account, "can": can, "clinical": clinical,
                            "csrf_token": context.get("csrf_token"), "request": context.get("request")}
    if not clinical:
        return data  # the front desk gives access; what patients report is clinical
    flags = list(WarningFlag.objects.filter(clinic_id=patient.clinic_id, patient=patient, acknowledged_at__isnull=True)
                 .order_by("raised_at"))
    check_ins = list(CheckIn.objects.filter(clinic_id=patient.clinic_id, patient=patient)
                     .order_by("-visit_date", "-id")[:CHECK_INS_SHOWN])
    for check_in in check_ins:
        check_in.sign_words = sign_words(check_in.warning_signs or [])  # type: ignore[attr-defined]
    assignments = list(QuestionnaireAssignment.objects.filter(clinic_id=patient.clinic_id, patient=patient,
                                                              stopped_at__isnull=True)
                       .exclude(open_from__isnull=True).order_by("due_on"))
    for assignment in assignments:
        assignment.title = measures.instrument(assignment.instrument).abbreviation  # type: ignore[attr-defined]
    # Only a patient who signs in logs the home programme: no account, no log to read.
    logged = plan_adherence(patient, today) if account is not None else []
    data.update({"flags": flag_rows(flags), "check_ins": check_ins, "assignments": assignments,
                 "adherence": logged, "adherence_days": ADHERENCE_DAYS})
    return data
