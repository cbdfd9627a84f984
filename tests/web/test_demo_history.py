"""The demo's clinical history: written through the apps' services, plausible, audited and idempotent.

The demo is seeded once for the module inside a transaction that is rolled back at the end (the
audit trail is append-only, so it cannot be deleted afterwards); each test runs in its own
savepoint on top of it.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import transaction
from django.test.utils import override_settings

from palpate.accounts.models import User
from palpate.audit.models import AuditEvent
from palpate.audit.services import verify_chain
from palpate.clinics.models import Clinic
from palpate.demo.history import COURSES
from palpate.demo.seed import seed_demo
from palpate.evaluations.models import OPEN_REFERRAL_STATUSES, Evaluation, Referral
from palpate.lib.models_common import RecordStatus
from palpate.outcomes import main_measure
from palpate.outcomes.models import OutcomeMeasurement
from palpate.outcomes.progress import episode_progress
from palpate.patients.models import Episode, Patient
from palpate.plans.models import PlanOfCare
from palpate.visits.models import Visit

CLINICS = ("harbor", "summit")


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):  # noqa: ANN001, ANN201
    """``today`` of the seeded demo; the seed is rolled back when the module is done."""
    today = dt.date.today()
    with django_db_blocker.unblock(), override_settings(
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        with transaction.atomic():
            seed_demo(today)
            yield today
            transaction.set_rollback(True)


def histories(slug: str) -> list[Evaluation]:
    return list(Evaluation.objects.filter(clinic__slug=slug).select_related("patient", "episode", "clinic")
                .order_by("patient_id"))


def visible_text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def section(html: str, heading_id: str) -> str:
    """The text of one card of the start page (from its heading to the next card)."""
    start = html.index(f'id="{heading_id}"')
    end = html.find('<section class="card"', start)
    return visible_text(html[start:end if end != -1 else None])


def test_eight_patients_per_clinic_get_a_signed_evaluation_plan_visits_and_measurements(demo, db):
    for slug in CLINICS:
        evaluations = histories(slug)
        assert len(evaluations) == len(COURSES[slug]) == 8
        for evaluation in evaluations:
            episode, patient = evaluation.episode, evaluation.patient
            assert evaluation.status == RecordStatus.SIGNED and evaluation.signed_by.username == f"{slug}-pt"
            assert evaluation.chief_complaint and evaluation.history and evaluation.pain_nprs is not None
            assert evaluation.irritability in ("low", "moderate", "high")
            assert evaluation.suggested_code in ("97161", "97162", "97163")
            [pain] = evaluation.pain_map
            assert (pain["region"], pain.get("side", "")) == (episode.body_region, episode.side)
            assert pain["intensity"] == evaluation.pain_nprs
            assert evaluation.screen_result["session"] in ("proceed", "modify")

            [plan] = PlanOfCare.objects.filter(episode=episode)
            assert plan.status == RecordStatus.SIGNED and plan.evaluation_id == evaluation.pk
            assert (plan.frequency_per_week, plan.duration_weeks) == (2, 6)
            assert plan.start_date == evaluation.performed_on
            assert {g["term"] for g in plan.goals} == {"short", "long"}
            assert plan.items and all(item["origin"] == "engine" for item in plan.items)
            assert plan.home_program and plan.screen_result["ran_on"] == evaluation.performed_on.isoformat()

            signed = list(Visit.objects.filter(episode=episode, status=RecordStatus.SIGNED).order_by("visit_date"))
            assert 2 <= len(signed) <= 6
            planned = {(i["technique"], i["region"], i.get("side") or "") for i in plan.items}
            for visit in signed:
                assert visit.plan_id == plan.pk and visit.therapist.username == f"{slug}-pt"
                rows = {(r.technique, r.region, r.side) for r in visit.treatments.all()}
                assert rows == planned, "the treatment rows are the plan's"
                assert visit.nprs_after is not None and visit.nprs_after <= visit.nprs_before
                assert visit.soreness_since_last is not None and visit.relief
                assert visit.billing["lines"] and visit.billing["total_timed_units"] >= 1
            assert signed[-1].nprs_before <= signed[0].nprs_before <= evaluation.pain_nprs

            code, _ = main_measure.suggested(episode.condition, episode.body_region)
            for instrument in ("nprs", code):
                taken = list(OutcomeMeasurement.objects.filter(episode=episode, instrument=instrument)
                             .order_by("taken_on"))
                assert [m.taken_on for m in taken] == [evaluation.performed_on, signed[-1].visit_date], patient
                assert taken[0].visit_id is None and taken[1].visit_id == signed[-1].pk
                assert all(m.valid for m in taken)
            nprs = OutcomeMeasurement.objects.get(episode=episode, instrument="nprs", visit=signed[-1])
            assert nprs.score == signed[-1].nprs_before


def test_the_history_goes_to_the_first_patients_and_leaves_at_least_twelve_clean_charts(demo, db):
    for slug in CLINICS:
        patients = list(Patient.objects.filter(clinic__slug=slug).order_by("pk"))
        with_history = {e.patient_id for e in histories(slug)}
        # The first patients in creation order, skipping only those whose episode is too recent.
        assert max(with_history) <= patients[len(with_history) + 2].pk
        clean = [p for p in patients if p.pk not in with_history]
        assert len(clean) >= 12
        for patient in clean:
            assert not Evaluation.objects.filter(patient=patient).exists()
            assert not PlanOfCare.objects.filter(patient=patient).exists()
            assert not Visit.objects.filter(patient=patient).exists()
            assert not OutcomeMeasurement.objects.filter(patient=patient).exists()
            assert Episode.objects.filter(patient=patient).count() == 1


def test_dates_are_past_twice_weekly_and_never_before_onset_except_todays_draft(demo, db):
    today = demo
    for slug in CLINICS:
        for evaluation in histories(slug):
            episode = evaluation.episode
            assert max(episode.onset_date, episode.opened_on) <= evaluation.performed_on < today
            dates = list(Visit.objects.filter(episode=episode, status=RecordStatus.SIGNED)
                         .order_by("visit_date").values_list("visit_date", flat=True))
            assert evaluation.performed_on < dates[0] and dates[-1] < today
            gaps = [(b - a).days for a, b in zip([evaluation.performed_on, *dates], dates, strict=False)]
            assert all(2 <= gap <= 5 for gap in gaps), gaps
            assert all(d.weekday() != 6 for d in [evaluation.performed_on, *dates]), "the clinic is shut on Sundays"
            for m in OutcomeMeasurement.objects.filter(episode=episode):
                assert episode.onset_date <= m.taken_on < today
    drafts = list(Visit.objects.filter(status=RecordStatus.DRAFT))
    assert [(v.visit_date, v.therapist.username, v.clinic.slug) for v in drafts] == [(today, "harbor-pt", "harbor")]


def test_the_audit_chain_verifies_and_every_record_was_written_by_its_service(demo, db):
    assert verify_chain().ok
    for slug in CLINICS:
        clinic = Clinic.objects.get(slug=slug)
        actions = list(AuditEvent.objects.filter(clinic=clinic).values_list("action", "object_id"))
        count = len(histories(slug))
        visits = Visit.objects.filter(clinic=clinic)
        for action, expected in [("evaluation.create", count), ("evaluation.sign", count), ("plan.create", count),
                                 ("plan.update", count), ("plan.sign", count), ("visit.create", visits.count()),
                                 ("visit.sign", visits.filter(status=RecordStatus.SIGNED).count()),
                                 ("outcomes.record", OutcomeMeasurement.objects.filter(clinic=clinic).count())]:
            assert sum(1 for a, _ in actions if a == action) == expected, action
        referrals = Referral.objects.filter(clinic=clinic)
        assert {str(r.pk) for r in referrals} == {o for a, o in actions if a == "referral.create"}


def test_harbor_pts_start_page_shows_the_unsigned_note_and_todays_visit(demo, db, client):
    draft = Visit.objects.select_related("patient").get(status=RecordStatus.DRAFT)
    name = f"{draft.patient.family_name}, {draft.patient.given_name}"
    client.force_login(User.objects.get(username="harbor-pt"))
    html = client.get("/").content.decode()
    assert name in section(html, "h-today") and "draft" in section(html, "h-today")
    assert name in section(html, "h-unsigned") and f"visit {demo:%Y-%m-%d}" in section(html, "h-unsigned")
    assert "Routine" in section(html, "h-referrals")
    assert draft.treatments.exists() and draft.nprs_before is not None, "a note started, not a blank one"


def test_one_episode_per_clinic_is_ready_for_active_rehab_and_one_is_due_for_re_evaluation(demo, db):
    for slug in CLINICS:
        signals = {e.patient_id: episode_progress(e.episode).signals for e in histories(slug)}
        ready = [p for p, s in signals.items() if s.ready_for_active_rehab]
        due = [p for p, s in signals.items() if s.re_evaluation_due]
        assert len(ready) == 1 and len(due) == 1 and ready != due
        [ready_signals] = [signals[p] for p in ready]
        assert ready_signals.nprs_latest <= 3 and ready_signals.responder.status.value == "improved"
        [due_signals] = [signals[p] for p in due]
        assert due_signals.visits_count >= 6 and due_signals.responder.status.value == "no_important_change"
        improved = [s for s in signals.values() if s.responder.status.value == "improved"]
        assert len(improved) >= 3, "several patients improve beyond the MCID"
        assert not any(s.remeasure_due for s in signals.values())


def test_one_patient_per_clinic_has_a_local_contraindication_and_one_an_open_referral(demo, db):
    for slug in CLINICS:
        evaluations = histories(slug)
        local = [e for e in evaluations if any(f.get("region") for f in e.findings)]
        assert len(local) == 2  # the contraindication, and the new pain that needs the physician
        contraindicated = [e for e in local if e.findings[0]["code"] in ("open_wound", "varicose_veins")]
        [e] = contraindicated
        assert e.findings[0]["region"] != e.episode.body_region
        restricted = {r["region"] for r in e.screen_result["restrictions"]}
        assert e.findings[0]["region"] in restricted
        for visit in Visit.objects.filter(episode=e.episode):
            assert e.findings[0]["region"] not in {r.region for r in visit.treatments.all()}
        [referral] = Referral.objects.filter(clinic__slug=slug)
        assert referral.status in OPEN_REFERRAL_STATUSES and referral.urgency == "routine"
        assert referral.evaluation.findings[0]["code"] == "new_pain"
        others = [e for e in evaluations if e not in local]
        assert all(not e.findings and e.screen_result["session"] == "proceed" for e in others)


def test_a_second_seed_adds_nothing(demo, db):
    models = (Patient, Evaluation, Referral, PlanOfCare, Visit, OutcomeMeasurement, AuditEvent)
    before = [m.objects.count() for m in models]
    assert seed_demo(demo) == {"harbor": 0, "summit": 0}
    assert [m.objects.count() for m in models] == before


def test_each_clinics_history_stays_in_that_clinic(demo, db, client):
    for model in (Evaluation, Referral, PlanOfCare, Visit, OutcomeMeasurement):
        for row in model.objects.select_related("patient", "episode"):
            assert row.clinic_id == row.patient.clinic_id == row.episode.clinic_id, model
    summit_names = {f"{e.patient.family_name}, {e.patient.given_name}" for e in histories("summit")}
    harbor_names = {f"{e.patient.family_name}, {e.patient.given_name}" for e in histories("harbor")}
    client.force_login(User.objects.get(username="summit-pt"))
    html = client.get("/").content.decode()
    shown = section(html, "h-reeval") + section(html, "h-referrals") + section(html, "h-unsigned")
    assert any(name in shown for name in summit_names)
    assert not any(name in shown for name in harbor_names - summit_names)
    assert "All your notes are signed." in section(html, "h-unsigned")
    harbor_patient = histories("harbor")[0].patient
    assert client.get(f"/patients/{harbor_patient.pk}/").status_code == 404


def test_the_history_pages_open_for_the_therapist(demo, db, client):
    client.force_login(User.objects.get(username="harbor-pt"))
    for evaluation in histories("harbor")[:3]:
        patient, episode = evaluation.patient, evaluation.episode
        plan = PlanOfCare.objects.get(episode=episode)
        visit = Visit.objects.filter(episode=episode).order_by("visit_date").last()
        chart = client.get(f"/patients/{patient.pk}/")
        assert chart.status_code == 200 and "Signed" in chart.content.decode()
        for url in (f"/patients/{patient.pk}/evaluations/{evaluation.pk}/", f"/patients/{patient.pk}/plans/{plan.pk}/",
                    f"/patients/{patient.pk}/visits/{visit.pk}/"):
            assert client.get(url).status_code == 200, url


def test_the_demo_writes_visit_notes_through_the_services_not_a_replayed_view():
    import inspect

    from palpate.demo import history

    source = inspect.getsource(history)
    assert "QueryDict" not in source and "check_visit_note" in source and "do_save_visit_note" in source
