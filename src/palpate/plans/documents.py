"""What the plan pages and PDFs show, assembled once for screen and print (no queries here).

The screen result (session, restrictions, referrals, body chart) is drawn from the engine answer
stored with the plan, so a plan always shows the screen it was built from.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from palpate.clinics.actor import Actor
from palpate.clinics.roles import NOTE_SIGN, SAFETY_OVERRIDE
from palpate.core import safety
from palpate.core.kb.clinical import WHOLE_BODY
from palpate.lib.vocabulary import exercise_library, label, where
from palpate.plans import certification
from palpate.plans.models import PlanOfCare

SESSION_WORDS = {
    "proceed": "Proceed: no restriction changed the suggested work.",
    "modify": "Modify: restrictions changed what would otherwise be done (see below).",
    "hold": "Hold: no soft-tissue work. The screen found a reason to stop; see the referrals.",
}


def restriction_rows(restrictions: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [{"text": safety.describe_restriction(r), "severity": r.get("severity", ""),
             "detail": list(r.get("detail") or []), "sources": list(r.get("sources") or []),
             "forbidden": r.get("max_pressure") == "none"} for r in restrictions]


def referral_rows(output: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [{"reason": label(r.get("reason"), "referral_reason"), "urgency": r.get("urgency", ""),
             "urgency_text": label(r.get("urgency"), "urgency"),
             "detail": r.get("detail", ""), "sources": list(r.get("sources") or [])}
            for r in output.get("referrals") or []]


def screen_context(output: Mapping[str, Any]) -> dict[str, Any]:
    restrictions = list(output.get("restrictions") or [])
    session = str(output.get("session") or "")
    return {
        "screen": output,
        "session": session,
        "session_text": SESSION_WORDS.get(session, ""),
        "is_hold": session == "hold",
        "restriction_rows": restriction_rows(restrictions),
        "referral_rows": referral_rows(output),
        "warnings": list(output.get("warnings") or []),
        "positioning": list(output.get("positioning") or []),
        "kb_version": output.get("kb_version", ""),
    }


def item_rows(plan: PlanOfCare) -> list[dict[str, Any]]:
    reasons = {safety.item_key(o["item"]): o for o in plan.overrides if o.get("item")}
    return [{**item, "technique_label": label(item.get("technique"), "technique"),
             "place": where(str(item.get("region") or WHOLE_BODY), item.get("side")),
             "for_label": label(item.get("for"), "condition"),
             "override": reasons.get(safety.item_key(item))} for item in plan.items]


def override_rows(plan: PlanOfCare) -> list[dict[str, Any]]:
    return [{"restriction": safety.describe_restriction(o.get("restriction") or {}),
             "item": safety.describe_item(o["item"]), "reason": o.get("reason", ""),
             "by": o.get("by", ""), "at": _when(o.get("at"))} for o in plan.overrides if o.get("item")]


def _when(value: object) -> str:
    try:
        return dt.datetime.fromisoformat(str(value)).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return str(value or "")


def goal_rows(plan: PlanOfCare) -> list[dict[str, Any]]:
    order = {"short": 0, "long": 1}
    return sorted(({**g, "term_label": "Short-term" if g.get("term") == "short" else "Long-term"} for g in plan.goals),
                  key=lambda g: order.get(str(g.get("term")), 2))


def home_rows(plan: PlanOfCare) -> list[dict[str, Any]]:
    return [{**h, "name": h.get("name") or exercise_library().get(str(h.get("exercise")), {}).get("name", "")}
            for h in plan.home_program]


def plan_context(plan: PlanOfCare) -> dict[str, Any]:
    output = plan.screen_result or {}
    return {
        **screen_context(output),
        "item_rows": item_rows(plan),
        "goal_rows": goal_rows(plan),
        "home_rows": home_rows(plan),
        "override_rows": override_rows(plan),
        "total_minutes": sum(int(i.get("minutes") or 0) for i in plan.items),
        "recertify_days": certification.RECERTIFY_MAX_DAYS,
        "reevaluate_days": certification.REEVALUATE_AFTER_DAYS,
    }


def edit_context(plan: PlanOfCare, actor: Actor) -> dict[str, Any]:
    output = plan.screen_result or {}
    return {
        **screen_context(output),
        "can_override": actor.can(SAFETY_OVERRIDE),
        "can_sign": actor.can(NOTE_SIGN),
        "exercise_library": exercise_library(),
        "patient_goals": getattr(plan.evaluation, "patient_goals", "") if plan.evaluation_id else "",
        "min_reason": safety.OVERRIDE_REASON_MIN_CHARS,
    }


def sign_preview(plan: PlanOfCare, today: dt.date) -> dict[str, Any]:
    """The dates signing today would set, so the therapist sees them before signing."""
    start = plan.start_date or today
    return {"preview_start": start,
            "preview_recertify": certification.recertify_by(start, plan.duration_weeks),
            "preview_reevaluate": certification.reevaluate_by(start, plan.duration_weeks)}


def handout_context(plan: PlanOfCare) -> dict[str, Any]:
    return {"home_rows": home_rows(plan)}
