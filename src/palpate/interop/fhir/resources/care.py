"""CarePlan and Goal (the plan of care), ServiceRequest (referrals the safety screen raised)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q

from palpate.clinics.roles import CLINICAL_VIEW
from palpate.evaluations.models import Referral, ReferralStatus
from palpate.interop.fhir.codes import cpt_coding, day, instant, label, palpate_coding, reference
from palpate.interop.fhir.context import Context
from palpate.interop.fhir.registry import (
    Include,
    Resource,
    ResourceType,
    Source,
    code_token_param,
    date_param,
    last_updated_param,
    patient_param,
    register,
)
from palpate.interop.fhir.resources.base import id_param
from palpate.interop.fhir.resources.clinical import practitioner, status_param, subject_includes
from palpate.lib.models_common import RecordStatus
from palpate.lib.vocabulary import because_label, place
from palpate.patients.models import EpisodeStatus
from palpate.plans.models import PlanOfCare


def plan_status(plan: PlanOfCare) -> str:
    if not plan.is_signed:
        return "draft" if not plan.is_superseded else "revoked"
    if plan.is_superseded or plan.episode.status == EpisodeStatus.DISCHARGED:
        return "completed"
    return "on-hold" if plan.episode.status == EpisodeStatus.ON_HOLD else "active"


def _activity(code: dict[str, Any], description: str, status: str, minutes: Any = None) -> dict[str, Any]:
    detail: dict[str, Any] = {"kind": "ServiceRequest", "code": code, "status": status, "description": description}
    if minutes:
        detail["quantity"] = {"value": int(minutes), "unit": "min", "system": "http://unitsofmeasure.org",
                              "code": "min"}
    return {"detail": detail}


def care_plan(ctx: Context, plan: PlanOfCare) -> Resource:
    status = plan_status(plan)
    activity_status = {"draft": "not-started", "active": "scheduled", "on-hold": "on-hold",
                       "completed": "completed"}.get(status, "cancelled")
    resource: Resource = {
        "resourceType": "CarePlan",
        "id": str(plan.pk),
        "meta": {"lastUpdated": instant(plan.updated_at)},
        "status": status,
        "intent": "plan",
        "category": [{"coding": [palpate_coding("care-plan", "plan-of-care", "Plan of care")], "text": "Plan of care"}],
        "title": f"Plan of care, {plan.frequency_per_week} visits a week for {plan.duration_weeks} weeks",
        "subject": reference("Patient", plan.patient_id),
        "created": instant(plan.created_at),
        "author": practitioner(plan.created_by),
        "addresses": [reference("Condition", plan.episode_id)],
        "goal": [reference("Goal", f"plan-{plan.pk}-goal-{i}") for i, _ in enumerate(plan.goals or [])],
        "activity": [],
    }
    if plan.start_date:
        end = plan.start_date + dt.timedelta(weeks=plan.duration_weeks)
        resource["period"] = {"start": day(plan.start_date), "end": day(end)}
    if plan.superseded_by_id:
        resource["note"] = [{"text": f"Superseded by CarePlan/{plan.superseded_by_id}"}]
    for item in plan.items or []:
        technique = str(item.get("technique") or "")
        words = label(technique)
        where = place(item)
        description = f"{words}, {where}, {label(str(item.get('pressure') or ''), 'pressures').lower()} pressure"
        resource["activity"].append(_activity(
            {"coding": [*cpt_coding(item.get("cpt")), palpate_coding("technique", technique, words)], "text": words},
            description, activity_status, item.get("minutes")))
    for item in plan.complementary or []:
        words = str(item.get("label") or label(str(item.get("therapy") or "")))
        resource["activity"].append(_activity(
            {"coding": [*cpt_coding(item.get("cpt")), palpate_coding("therapy", str(item.get("therapy")), words)],
             "text": words}, str(item.get("why") or words), activity_status))
    for item in plan.home_program or []:
        words = str(item.get("name") or item.get("exercise") or "Home exercise")
        detail = _activity({"coding": [palpate_coding("exercise", str(item.get("exercise")), words)], "text": words},
                           f"Home programme: {words}, {item.get('dose') or ''}".rstrip(", "), activity_status)
        resource["activity"].append(detail)
    if not resource["goal"]:
        resource.pop("goal")
    if not resource["activity"]:
        resource.pop("activity")
    return resource


def goals(ctx: Context, plan: PlanOfCare) -> list[Resource]:
    status = plan_status(plan)
    lifecycle = {"draft": "proposed", "active": "active", "on-hold": "on-hold",
                 "completed": "completed"}.get(status, "cancelled")
    out = []
    for index, goal in enumerate(plan.goals or []):
        term = "short" if goal.get("term") == "short" else "long"
        words = "Short-term goal" if term == "short" else "Long-term goal"
        resource: Resource = {
            "resourceType": "Goal",
            "id": f"plan-{plan.pk}-goal-{index}",
            "meta": {"lastUpdated": instant(plan.updated_at)},
            "lifecycleStatus": lifecycle,
            "category": [{"coding": [palpate_coding("goal-term", f"{term}-term", words)], "text": words}],
            "description": {"text": str(goal.get("text") or words)},
            "subject": reference("Patient", plan.patient_id),
            "addresses": [reference("Condition", plan.episode_id)],
        }
        if plan.start_date:
            resource["startDate"] = day(plan.start_date)
        if goal.get("target_date"):
            resource["target"] = [{"dueDate": str(goal["target_date"])[:10]}]
        out.append(resource)
    return out


def _plans(ctx: Context) -> Any:
    return PlanOfCare.objects.filter(clinic_id=ctx.clinic_id).select_related("created_by", "episode")


CARE_PLAN_STATUS = {
    "draft": Q(status=RecordStatus.DRAFT, superseded_by__isnull=True),
    "revoked": Q(status=RecordStatus.DRAFT, superseded_by__isnull=False),
    "active": Q(status=RecordStatus.SIGNED, superseded_by__isnull=True, episode__status=EpisodeStatus.ACTIVE),
    "on-hold": Q(status=RecordStatus.SIGNED, superseded_by__isnull=True, episode__status=EpisodeStatus.ON_HOLD),
    "completed": Q(status=RecordStatus.SIGNED) & (Q(superseded_by__isnull=False)
                                                  | Q(episode__status=EpisodeStatus.DISCHARGED)),
}


@register
class CarePlanType(ResourceType):
    name = "CarePlan"
    permission = CLINICAL_VIEW
    description = "The plan of care: soft-tissue items with CPT codes, complementary therapies, home programme, goals"
    patient_compartment = True
    search_params = {
        "_id": id_param(),
        "_lastUpdated": last_updated_param(),
        "patient": patient_param(),
        "subject": patient_param(),
        "date": date_param("the day the plan starts"),
        "status": status_param("the plan's status", CARE_PLAN_STATUS),
    }
    includes = {**subject_includes("CarePlan"),
                "CarePlan:goal": Include("Goal", lambda r: [g["reference"] for g in r.get("goal", [])])}

    def sources(self) -> list[Source]:
        return [Source("", _plans, care_plan, date="start_date", order=("-created_at", "-pk"))]


@register
class GoalType(ResourceType):
    name = "Goal"
    permission = CLINICAL_VIEW
    description = "The goals of a plan of care (Goal/plan-N-goal-I)"
    patient_compartment = True
    search_params = {
        "_id": id_param(),
        "_lastUpdated": last_updated_param(),
        "patient": patient_param(),
        "subject": patient_param(),
        "lifecycle-status": code_token_param("proposed, active, completed or cancelled", lambda r: r["lifecycleStatus"]),
    }
    includes = subject_includes("Goal")

    def sources(self) -> list[Source]:
        return [Source("plan", _plans, goals, date="start_date", order=("-created_at", "-pk"), one_per_row=False)]


# -- ServiceRequest -----------------------------------------------------------------------------------------

PRIORITY = {"emergency": "stat", "same_day": "asap", "routine": "routine"}
REFERRAL_STATUS = {
    "active": Q(status__in=[ReferralStatus.OPEN, ReferralStatus.SENT]),
    "completed": Q(status__in=[ReferralStatus.CLEARED, ReferralStatus.CLOSED]),
}


def service_request(ctx: Context, referral: Referral) -> Resource:
    reason = label(referral.reason, "referral_reasons")
    resource: Resource = {
        "resourceType": "ServiceRequest",
        "id": str(referral.pk),
        "meta": {"lastUpdated": instant(referral.created_at)},
        "status": "active" if referral.is_open else "completed",
        "intent": "proposal",
        "category": [{"coding": [palpate_coding("referral", "medical-referral", "Medical referral or clearance")],
                      "text": "Medical referral or clearance"}],
        "priority": PRIORITY.get(referral.urgency, "routine"),
        "code": {"coding": [palpate_coding("referral-reason", referral.reason, reason)], "text": reason},
        "subject": reference("Patient", referral.patient_id),
        "authoredOn": day(referral.raised_on),
        "requester": practitioner(referral.raised_by),
        "performerType": {"text": "Physician"},
        "reasonReference": [reference("Condition", referral.episode_id)],
    }
    if referral.evaluation_id:
        resource["encounter"] = reference("Encounter", f"evaluation-{referral.evaluation_id}")
    because = [{"text": because_label(str(code))} for code in referral.because or []]
    if because:
        resource["reasonCode"] = because
    notes = [text for text in (referral.detail, referral.status_note) if text]
    notes.append(f"Status in Palpate: {referral.get_status_display()}")
    resource["note"] = [{"text": text} for text in notes]
    return resource


@register
class ServiceRequestType(ResourceType):
    name = "ServiceRequest"
    permission = CLINICAL_VIEW
    description = "Referrals and clearances the safety screen asked for, with urgency and status"
    patient_compartment = True
    search_params = {
        "_id": id_param(),
        "_lastUpdated": last_updated_param(),
        "patient": patient_param(),
        "subject": patient_param(),
        "authored": date_param("the day it was raised"),
        "status": status_param("active (open or the letter sent) or completed (cleared or closed)", REFERRAL_STATUS),
    }
    includes = subject_includes("ServiceRequest")

    def sources(self) -> list[Source]:
        return [Source("", lambda ctx: Referral.objects.filter(clinic_id=ctx.clinic_id).select_related("raised_by"),
                       service_request, date="raised_on", updated="created_at", order=("-raised_on", "-pk"))]
