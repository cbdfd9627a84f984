"""A patient with a long treatment history, written through the same services the screens use.

Used by ``benchmarks/bench_pages.py`` (100 visits, timed) and ``tests/web/test_page_budgets.py``
(5 and 50 visits, query counts). Everything goes through the ``do_*`` services, so the records,
their screens, billing and audit events are what a real clinic would hold after months of care:
one signed evaluation with a local contraindication, one signed plan of care, ``visits`` signed
visit notes carried forward one from the other, and a QuickDASH and an NPRS every fifth visit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

from django.utils import timezone

from palpate.clinics.actor import Actor
from palpate.evaluations import services as evaluations
from palpate.evaluations.models import Evaluation
from palpate.outcomes import services as outcomes
from palpate.patients import services as patients
from palpate.patients.models import Episode, Patient
from palpate.plans import services as plans
from palpate.plans.models import PlanOfCare
from palpate.visits import services as visits
from palpate.visits.models import Visit
from palpate.visits.note import NoteInput

# Two visits a week: the history of ``n`` visits spans about n / 2 weeks before ``today``.
DAYS_BETWEEN_VISITS = (3, 4)
MEASURE_EVERY = 5


@dataclass
class History:
    patient: Patient
    episode: Episode
    evaluation: Evaluation
    plan: PlanOfCare
    visits: list[Visit]

    @property
    def last_visit(self) -> Visit:
        return self.visits[-1]


def visit_dates(count: int, first: dt.date, start_index: int = 0) -> list[dt.date]:
    """``count`` visit days from ``first`` on, two a week (every 3 then 4 days)."""
    dates, day = [], first
    for i in range(start_index, start_index + count):
        dates.append(day)
        day += dt.timedelta(days=DAYS_BETWEEN_VISITS[i % 2])
    return dates


def first_day_for(count: int, today: dt.date) -> dt.date:
    """The first visit day such that ``count`` visits end a few days before ``today``."""
    span = sum(DAYS_BETWEEN_VISITS[i % 2] for i in range(count - 1))
    return today - dt.timedelta(days=span + 2)


def new_patient(actor: Actor, given: str = "Hundred", family: str = "Visits", *,
                onset: dt.date) -> tuple[Patient, Episode]:
    patient = patients.do_create_patient(actor, Patient(given_name=given, family_name=family,
                                                        date_of_birth=dt.date(1968, 3, 14), sex="female"))
    episode = patients.do_create_episode(actor, patient, Episode(
        condition="tendinopathy", body_region="elbow", side="right", diagnosis="Lateral epicondylitis",
        icd10_code="M77.11", onset_date=onset, opened_on=onset + dt.timedelta(days=3), payer="commercial"))
    return patient, episode


def _evaluation(actor: Actor, patient: Patient, episode: Episode, on: dt.date) -> Evaluation:
    fields: dict[str, Any] = {
        "performed_on": on, "chief_complaint": "Outer elbow pain when gripping",
        "history": "Pain over the lateral epicondyle for weeks; worse with keyboard and mouse work.",
        "patient_goals": "Carry shopping and work a full day without pain.",
        "pain_map": [{"region": "elbow", "side": "right", "intensity": 6, "quality": "aching"}],
        "rom": [{"joint": "elbow", "motion": "flexion", "side": "right", "degrees": 130}],
        "palpation": [{"region": "forearm", "side": "right", "tone": "increased", "tender": True, "trigger_points": 2}],
        # The local contraindication: an open wound on the forearm next to the treated elbow.
        "findings": [{"code": "open_wound", "region": "forearm", "side": "right"}],
        "vitals": {"temperature_c": 36.7, "bp_systolic": 128, "bp_diastolic": 82},
    }
    checked = evaluations.check_evaluation(actor, patient, episode, evaluations.EvaluationInput(**fields))
    evaluation = evaluations.do_save_evaluation(actor, patient, episode, checked)
    return evaluations.do_sign_evaluation(actor, evaluation, evaluation.version)


def _plan(actor: Actor, patient: Patient, episode: Episode, on: dt.date) -> PlanOfCare:
    plan = plans.do_create_plan(actor, patient, episode, plans.suggest(actor, patient, episode, on))
    changes = plans.PlanChanges(
        start_date=on, frequency_per_week=2, duration_weeks=12,
        goals=[{"term": "short", "text": "Grip a full kettle without pain", "target_date": None},
               {"term": "long", "text": "Full work duties with pain 2/10 or less", "target_date": None}],
        items=[{**{k: item[k] for k in ("technique", "region", "side", "pressure", "minutes")},
                "suggestion": item.get("suggestion"), "override_reason": ""} for item in plan.items],
        complementary=[c["therapy"] for c in plan.complementary],
        home_program=[{k: h.get(k) for k in ("exercise", "side", "dose", "instructions")} for h in plan.home_program],
    )
    plan = plans.do_save_plan(actor, plan, changes, plan.version)
    return plans.do_sign_plan(actor, plan, plan.version, today=on)


def _visit(actor: Actor, patient: Patient, episode: Episode, on: dt.date, number: int) -> Visit:
    visit, _ = visits.do_start_visit(actor, patient, episode, today=on)
    treatments, complementary = visits.stored_rows(visit)
    nprs = max(1, 7 - number // 15)
    note = NoteInput(subjective=f"Visit {number + 1}: grip a little easier.", soreness_since_last=2,
                     soreness_hours=24, relief="some", objective="Tender over the common extensor origin.",
                     nprs_before=nprs, nprs_after=max(0, nprs - 2), assessment="Improving as expected.",
                     plan_text="Continue the plan of care.", findings=list(visit.findings or []),
                     treatments=treatments, complementary=[replace(c, minutes=10) for c in complementary])
    outcome = visits.do_save_visit_note(actor, visit, visits.check_visit_note(actor, visit, note), visit.version)
    if outcome.status != "saved":
        raise RuntimeError(f"visit {number + 1} was not saved: {outcome.status}")
    return visits.do_sign_visit(actor, outcome.visit, outcome.visit.version)


def _measure(actor: Actor, episode: Episode, visit: Visit, number: int) -> None:
    better = min(3, number // 20)  # QuickDASH answers 1-5; the patient slowly improves
    outcomes.do_record_measurement(actor, episode, instrument="quickdash", answers=[4 - better] * 11,
                                   taken_on=visit.visit_date, visit=visit)
    outcomes.do_record_measurement(actor, episode, instrument="nprs", answers=[visit.nprs_before],
                                   taken_on=visit.visit_date, visit=visit)


def build_history(actor: Actor, count: int, *, first: dt.date) -> History:
    """A new patient with ``count`` signed visits from ``first`` on (see ``first_day_for``)."""
    patient, episode = new_patient(actor, onset=first - dt.timedelta(days=60))
    evaluation = _evaluation(actor, patient, episode, first)
    plan = _plan(actor, patient, episode, first)
    history = History(patient, episode, evaluation, plan, [])
    _add(actor, history, visit_dates(count, first))
    return history


def add_visits(actor: Actor, history: History, count: int) -> History:
    """``count`` more signed visits after the last one, in the same rhythm."""
    done = len(history.visits)
    last = history.last_visit.visit_date
    following = visit_dates(count + 1, last, start_index=done - 1)[1:]
    _add(actor, history, following)
    return history


def _add(actor: Actor, history: History, dates: list[dt.date]) -> None:
    if dates and dates[-1] > timezone.localdate():
        raise ValueError(f"the history would reach {dates[-1]}, after today; start it earlier")
    for day in dates:
        number = len(history.visits)
        visit = _visit(actor, history.patient, history.episode, day, number)
        if number % MEASURE_EVERY == 0:
            _measure(actor, history.episode, visit, number)
        history.visits.append(visit)
