"""Discharge: the episode's status, the signed discharge summary, its PDF and addenda (issue 12, item 6)."""

from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from palpate.audit.models import AuditEvent
from palpate.clinics.actor import Actor
from palpate.clinics.models import Membership
from palpate.discharge import services, summary
from palpate.discharge.models import Discharge
from palpate.lib.records import StaleEdit
from palpate.lib.vocabulary import exercise_library
from palpate.outcomes.models import OutcomeMeasurement
from palpate.patients import services as patient_services
from palpate.patients.models import EpisodeStatus
from palpate.plans.models import PlanOfCare
from palpate.visits.models import Visit

TODAY = dt.date(2026, 11, 20)


@pytest.fixture
def printed(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The text of each PDF, from the HTML it was rendered from (WeasyPrint compresses the PDF's
    text; the PDF tests of plans do the same)."""
    from django.template.loader import render_to_string

    from palpate.discharge import views

    texts: dict[str, str] = {}
    real = views.render_pdf

    def capture(template: str, context: dict[str, Any], request: Any = None) -> bytes:
        markup = render_to_string(template, context, request=request)
        texts[template] = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())
        return real(template, context, request)

    monkeypatch.setattr(views, "render_pdf", capture)
    return texts


def actor(world: Any, user: Any) -> Actor:
    return Actor.of(Membership.objects.get(user=user, clinic=world.harbor))


def signed_plan(world: Any) -> PlanOfCare:
    library = exercise_library()
    return PlanOfCare.objects.create(
        clinic=world.harbor, patient=world.harbor_patient, episode=world.harbor_episode, created_by=world.alice,
        start_date=TODAY - dt.timedelta(days=40), status="signed", signed_by=world.alice,
        signed_at=timezone.now() - dt.timedelta(days=40),
        goals=[{"term": "short", "text": "Sit 30 minutes without pain"}, {"term": "long", "text": "Lift a toddler"}],
        home_program=[{"exercise": code, "dose": library[code]["dose"], "instructions": library[code]["instructions"]}
                      for code in ("pelvic_tilt", "cat_camel")])


def odi(world: Any, score: float, taken_on: dt.date, visit: Any = None) -> OutcomeMeasurement:
    return OutcomeMeasurement.objects.create(
        clinic=world.harbor, patient=world.harbor_patient, episode=world.harbor_episode, instrument="odi",
        taken_on=taken_on, answers=[], valid=True, score=score, entered_by=world.alice, visit=visit)


def visit(world: Any, plan: PlanOfCare, status: str = "signed") -> Visit:
    return Visit.objects.create(clinic=world.harbor, patient=world.harbor_patient, episode=world.harbor_episode,
                                plan=plan, therapist=world.alice, visit_date=TODAY - dt.timedelta(days=1),
                                status=status)


def page_url(world: Any) -> str:
    return f"/patients/{world.harbor_patient.pk}/discharge/episode/{world.harbor_episode.pk}/"


def status_url(world: Any) -> str:
    return f"/patients/{world.harbor_patient.pk}/episodes/{world.harbor_episode.pk}/status/"


def complete(**extra: Any) -> dict[str, Any]:
    return {"reason": "goals_met", "reason_detail": "", "goal_0": "met", "goal_1": "partly_met", "keep_0": "on",
            "keep_1": "on", "home_program_notes": "Walk daily", "version": "", **extra}


def sign(world: Any, plan: PlanOfCare) -> Discharge:
    alice = actor(world, world.alice)
    draft = services.do_save_discharge(alice, world.harbor_episode, None, services.DischargeInput(
        reason="goals_met", goal_outcomes=["met", "not_met"], kept_exercises=[0]))
    return services.do_sign_discharge(alice, draft, draft.version)


# --- status ---------------------------------------------------------------------------------------


def test_it_puts_an_episode_on_hold_and_back_with_reasons_audited(world):
    alice, episode = actor(world, world.alice), world.harbor_episode
    patient_services.do_change_episode_status(alice, episode, EpisodeStatus.ON_HOLD, "Away for a month")
    episode.refresh_from_db()
    assert episode.status == EpisodeStatus.ON_HOLD
    patient_services.do_change_episode_status(alice, episode, EpisodeStatus.ACTIVE, "Back from travel")
    episode.refresh_from_db()
    assert episode.status == EpisodeStatus.ACTIVE
    events = AuditEvent.objects.filter(action="episode.status").order_by("id")
    assert [e.new["reason"] for e in events] == ["Away for a month", "Back from travel"]
    assert [c.reason for c in episode.status_changes.order_by("id")] == ["Away for a month", "Back from travel"]


def test_it_refuses_a_status_change_without_a_reason_or_straight_to_discharged(world):
    alice, episode = actor(world, world.alice), world.harbor_episode
    with pytest.raises(patient_services.StatusChangeRefused, match="reason"):
        patient_services.do_change_episode_status(alice, episode, EpisodeStatus.ON_HOLD, "  ")
    with pytest.raises(patient_services.StatusChangeRefused, match="discharge summary"):
        patient_services.do_change_episode_status(alice, episode, EpisodeStatus.DISCHARGED, "Done")
    with pytest.raises(patient_services.StatusChangeRefused, match="is active"):
        patient_services.do_change_episode_status(alice, episode, EpisodeStatus.ACTIVE, "Again")
    assert not AuditEvent.objects.filter(action="episode.status").exists()


def test_the_status_form_keeps_the_reason_on_error_and_redirects_on_success(world, as_user):
    client = as_user(world.alice)
    response = client.post(status_url(world), {"to_status": "on_hold", "reason": ""})
    assert response.status_code == 400
    assert "Give the reason" in response.content.decode()
    response = client.post(status_url(world), {"to_status": "nonsense", "reason": "Typed this"})
    assert response.status_code == 400 and "Typed this" in response.content.decode()
    response = client.post(status_url(world), {"to_status": "on_hold", "reason": "Waiting for the MRI"})
    assert response.status_code == 302 and response["Location"] == f"/patients/{world.harbor_patient.pk}/"
    world.harbor_episode.refresh_from_db()
    assert world.harbor_episode.status == "on_hold"
    assert "Waiting for the MRI" in client.get(status_url(world)).content.decode()


@pytest.mark.parametrize("status", ["on_hold", "discharged"])
def test_booking_an_episode_that_is_not_active_is_refused_with_its_status(world, status):
    from palpate.scheduling.services import Booking, InvalidRequest, check_booking

    world.harbor_episode.status = status
    world.harbor_episode.save()
    booking = Booking(episode=world.harbor_episode, therapist_id=world.alice.pk, minutes=30,
                      starts_at=timezone.now() + dt.timedelta(days=2))
    expected = "on hold: resume it" if status == "on_hold" else "discharged: reopen it"
    with pytest.raises(InvalidRequest, match=f"{expected} before booking"):
        check_booking(actor(world, world.alice), booking)


def test_only_a_therapist_reopens_a_discharged_episode(world):
    sign(world, signed_plan(world))
    world.harbor_episode.refresh_from_db()
    with pytest.raises(PermissionDenied):
        patient_services.do_change_episode_status(actor(world, world.fran), world.harbor_episode, "active", "Mistake")
    patient_services.do_change_episode_status(actor(world, world.alice), world.harbor_episode, "active", "Relapse")
    world.harbor_episode.refresh_from_db()
    assert world.harbor_episode.status == "active" and world.harbor_episode.discharged_on is None


# --- the summary's outcomes -------------------------------------------------------------------------


def test_outcomes_are_first_and_last_with_the_cores_mcid_from_signed_records_only(world):
    from palpate.core import measures

    plan = signed_plan(world)
    odi(world, 44, TODAY - dt.timedelta(days=30))
    odi(world, 20, TODAY - dt.timedelta(days=5), visit=visit(world, plan, "signed"))
    odi(world, 2, TODAY - dt.timedelta(days=1), visit=visit(world, plan, "draft"))  # a draft note's: not counted
    (line,) = summary.outcome_lines(world.harbor_episode)
    expected = measures.change("odi", 44, 20)
    assert (line["first"], line["last"]) == (44, 20)
    assert line["change"] == expected.change and line["mcid"] == expected.mcid
    assert line["meets_mcid"] is expected.meets_mcid is True
    assert line["source"] == expected.source


def test_one_score_only_is_reported_without_a_change(world):
    odi(world, 30, TODAY - dt.timedelta(days=3))
    (line,) = summary.outcome_lines(world.harbor_episode)
    assert line["change"] is None and line["meets_mcid"] is None


# --- signing --------------------------------------------------------------------------------------


def test_signing_locks_the_summary_keeps_its_outcomes_and_discharges_the_episode(world):
    plan = signed_plan(world)
    odi(world, 44, TODAY - dt.timedelta(days=30))
    odi(world, 30, TODAY - dt.timedelta(days=3))
    discharge = sign(world, plan)
    world.harbor_episode.refresh_from_db()
    assert world.harbor_episode.status == "discharged"
    assert world.harbor_episode.discharged_on == timezone.localdate() == discharge.discharged_on
    assert discharge.is_signed and discharge.signed_by == world.alice
    assert [g["outcome"] for g in discharge.goals] == ["met", "not_met"]
    assert [h["exercise"] for h in discharge.home_program] == ["pelvic_tilt"]
    assert discharge.outcomes[0]["first"] == 44
    odi(world, 10, TODAY)  # later entries do not change what was signed
    discharge.refresh_from_db()
    assert discharge.outcomes[0]["last"] == 30
    assert AuditEvent.objects.filter(action="discharge.sign", object_id=str(discharge.pk)).exists()
    with pytest.raises(PermissionDenied):
        services.do_save_discharge(actor(world, world.alice), world.harbor_episode, discharge,
                                   services.DischargeInput(reason="plateau"), discharge.version)


def test_signing_asks_for_the_reason_each_goal_and_signed_notes(world):
    plan = signed_plan(world)
    visit(world, plan, "draft")
    alice = actor(world, world.alice)
    draft = services.do_save_discharge(alice, world.harbor_episode, None,
                                       services.DischargeInput(reason="other", goal_outcomes=["met"]))
    with pytest.raises(services.NotSignable) as refused:
        services.do_sign_discharge(alice, draft, draft.version)
    text = " ".join(refused.value.problems)
    assert "other reason" in text and "Lift a toddler" in text and "1 visit note is still a draft" in text
    world.harbor_episode.refresh_from_db()
    assert world.harbor_episode.status == "active"


@pytest.mark.parametrize("who", ["bob", "fran", "aubrey"])
def test_only_a_therapist_writes_or_signs_a_discharge(world, who):
    signed_plan(world)
    someone = actor(world, getattr(world, who))
    with pytest.raises(PermissionDenied):
        services.do_save_discharge(someone, world.harbor_episode, None, services.DischargeInput(reason="plateau"))
    draft = services.do_save_discharge(actor(world, world.alice), world.harbor_episode, None,
                                       services.DischargeInput(reason="plateau", goal_outcomes=["met", "met"]))
    with pytest.raises(PermissionDenied):
        services.do_sign_discharge(someone, draft, draft.version)


# --- pages --------------------------------------------------------------------------------------------


def test_the_form_defaults_to_the_plans_goals_and_home_programme(world, as_user):
    signed_plan(world)
    page = as_user(world.alice).get(page_url(world)).content.decode()
    assert "Lift a toddler" in page and "Pelvic tilt" in page
    assert page.count("checked") == 2  # both exercises of the plan continue unless unticked


def test_a_failed_sign_keeps_what_was_typed_and_saves_the_draft(world, as_user):
    signed_plan(world)
    client = as_user(world.alice)
    response = client.post(page_url(world), complete(reason="other", reason_detail="", goal_1="",
                                                     home_program_notes="Swim twice a week", action="sign"))
    assert response.status_code == 400
    page = response.content.decode()
    assert "Swim twice a week" in page and "Say what the other reason" in page
    assert Discharge.objects.get().home_program_notes == "Swim twice a week"
    response = client.post(page_url(world), complete(reason="nonsense", home_program_notes="Cycle", version="2"))
    assert response.status_code == 400 and "Cycle" in response.content.decode()


def test_signing_redirects_then_the_chart_says_discharged_with_the_pdf(world, as_user):
    signed_plan(world)
    client = as_user(world.alice)
    response = client.post(page_url(world), complete(action="sign"))
    assert response.status_code == 302 and response["Location"] == page_url(world)
    discharge = Discharge.objects.get()
    chart = client.get(f"/patients/{world.harbor_patient.pk}/").content.decode()
    assert f"Discharged on {timezone.localdate():%Y-%m-%d}" in chart
    assert f"/patients/{world.harbor_patient.pk}/discharge/{discharge.pk}/summary.pdf" in chart
    summary_page = client.get(page_url(world)).content.decode()
    assert "Goals met" in summary_page and "Partly met" in summary_page


def test_the_summary_pdf_has_the_clinic_the_therapist_and_the_outcomes(world, as_user, printed):
    world.harbor.address = "12 Quay Street, Portland, ME 04101"
    world.harbor.save()
    world.alice.credentials = "PT, DPT"
    world.alice.save()
    plan = signed_plan(world)
    odi(world, 44, TODAY - dt.timedelta(days=30))
    odi(world, 20, TODAY - dt.timedelta(days=3))
    discharge = sign(world, plan)
    client = as_user(world.alice)
    response = client.get(f"/patients/{world.harbor_patient.pk}/discharge/{discharge.pk}/summary.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF") and response["Cache-Control"] == "no-store"
    text = printed["discharge/summary_pdf.html"]
    for expected in ("Discharge summary", "Harbor Physical Therapy", "12 Quay Street", "PT, DPT", "Goals met",
                     "Sit 30 minutes without pain", "Not met", "Pelvic tilt", "ODI", "44 (", "20 (",
                     "Signed by Alice"):
        assert expected in text, expected
    assert AuditEvent.objects.filter(action="discharge.pdf").exists()


def test_a_discharge_addendum_is_signed_and_printed(world, as_user, printed):
    discharge = sign(world, signed_plan(world))
    url = f"/patients/{world.harbor_patient.pk}/discharge/{discharge.pk}/addendum/"
    assert as_user(world.bob).post(url, {"text": "Bob's note"}).status_code == 403
    client = as_user(world.alice)
    response = client.post(url, {"text": ""})
    assert response.status_code == 400 and "Write the correction" in response.content.decode()
    assert client.post(url, {"text": "Patient phoned: pain-free"}).status_code == 302
    assert "Patient phoned: pain-free" in client.get(page_url(world)).content.decode()
    client.get(f"/patients/{world.harbor_patient.pk}/discharge/{discharge.pk}/summary.pdf")
    assert "Addenda Patient phoned: pain-free Signed by Alice" in printed["discharge/summary_pdf.html"]
    assert AuditEvent.objects.filter(action="discharge.addendum").count() == 1


def test_another_clinics_discharge_urls_are_404(world, as_user):
    discharge = sign(world, signed_plan(world))
    client = as_user(world.charlie)
    p, e = world.harbor_patient.pk, world.harbor_episode.pk
    for url in (f"/patients/{p}/discharge/episode/{e}/", f"/patients/{p}/discharge/{discharge.pk}/summary.pdf",
                f"/patients/{p}/discharge/{discharge.pk}/addendum/", f"/patients/{p}/episodes/{e}/status/"):
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"text": "x", "reason": "x"}).status_code == 404, url


def test_a_discharged_episode_leaves_today(world, as_user):
    from palpate.today.board import build_today

    plan = signed_plan(world)
    plan.reevaluate_by = timezone.localdate()
    plan.save()
    alice = actor(world, world.alice)
    assert [p.pk for p in build_today(alice).reevaluations_due] == [plan.pk]
    sign(world, plan)
    assert build_today(alice).reevaluations_due == []


@pytest.mark.parametrize("who", ["bob", "aubrey"])
def test_the_discharge_page_is_read_only_for_assistants_and_auditors(world, as_user, who):
    signed_plan(world)
    client = as_user(getattr(world, who))
    page = client.get(page_url(world)).content.decode()
    assert "Save, sign and discharge" not in page and 'name="reason"' not in page
    assert client.post(page_url(world), complete(action="sign")).status_code == 403
    assert not Discharge.objects.exists()


def test_after_a_refused_sign_the_next_submit_continues_from_the_saved_draft(world, as_user):
    signed_plan(world)
    client = as_user(world.alice)
    first = client.post(page_url(world), complete(goal_1="", action="sign"))
    assert first.status_code == 400
    version = re.search(r'name="version" value="(\d+)"', first.content.decode()).group(1)
    assert int(version) == Discharge.objects.get().version
    assert client.post(page_url(world), complete(version=version, action="sign")).status_code == 302
    assert Discharge.objects.get().is_signed


def test_two_people_saving_the_same_draft_are_told_not_overwritten(world, as_user):
    signed_plan(world)
    client = as_user(world.alice)
    assert client.post(page_url(world), complete(action="save")).status_code == 302
    opened = Discharge.objects.get().version
    assert client.post(page_url(world), complete(version=str(opened), reason="plateau")).status_code == 302
    stale = client.post(page_url(world), complete(version=str(opened), reason="moved_away"))
    assert stale.status_code == 409 and "Someone saved this discharge summary" in stale.content.decode()
    assert Discharge.objects.get().reason == "plateau"


def test_the_api_gives_the_episode_status_and_discharge_day(world, as_user):
    url = f"/api/patients/{world.harbor_patient.pk}/episodes"
    client = as_user(world.alice)
    [episode] = client.get(url).json()
    assert (episode["status"], episode["discharged_on"]) == ("active", None)
    sign(world, signed_plan(world))
    [episode] = client.get(url).json()
    assert (episode["status"], episode["discharged_on"]) == ("discharged", f"{timezone.localdate():%Y-%m-%d}")


def test_a_discharged_episodes_visits_leave_todays_lists(world):
    from palpate.today.board import build_today

    plan = signed_plan(world)
    Visit.objects.create(clinic=world.harbor, patient=world.harbor_patient, episode=world.harbor_episode, plan=plan,
                         therapist=world.alice, visit_date=timezone.localdate(), status="signed")
    alice = actor(world, world.alice)
    assert len(build_today(alice).todays_visits) == 1
    sign(world, plan)
    assert build_today(alice).todays_visits == []


def test_a_second_first_save_finds_the_first_draft_and_is_told(world):
    signed_plan(world)
    alice, dana = actor(world, world.alice), actor(world, world.dana)
    services.do_save_discharge(alice, world.harbor_episode, None, services.DischargeInput(reason="plateau"))
    with pytest.raises(StaleEdit):
        services.do_save_discharge(dana, world.harbor_episode, None, services.DischargeInput(reason="other"))
    assert Discharge.objects.count() == 1


def test_the_front_desk_is_not_offered_to_reopen_a_discharged_episode(world, as_user):
    sign(world, signed_plan(world))
    page = as_user(world.fran).get(status_url(world)).content.decode()
    assert 'name="to_status"' not in page and "Only a therapist can reopen" in page
    assert as_user(world.fran).post(status_url(world), {"to_status": "active", "reason": "x"}).status_code == 403


def test_signing_a_discharge_cancels_the_episodes_future_bookings_and_keeps_the_past(world):
    from palpate.scheduling.models import Appointment

    def booked(starts_at: dt.datetime, status: str = "booked") -> Appointment:
        return Appointment.objects.create(clinic=world.harbor, patient=world.harbor_patient,
                                          episode=world.harbor_episode, therapist=world.alice, booked_by=world.alice,
                                          starts_at=starts_at, ends_at=starts_at + dt.timedelta(minutes=45),
                                          status=status)

    now = timezone.now()
    coming, later = booked(now + dt.timedelta(days=2)), booked(now + dt.timedelta(days=9))
    attended = booked(now - dt.timedelta(days=3), status="completed")
    missed = booked(now - dt.timedelta(days=1))  # booked in the past, never checked in: the front desk's to settle

    sign(world, signed_plan(world))

    for appointment in (coming, later, attended, missed):
        appointment.refresh_from_db()
    assert (coming.status, later.status) == ("cancelled", "cancelled")  # by the clinic: never a late cancellation
    assert coming.reason.startswith(f"Discharged on {timezone.localdate():%Y-%m-%d}")
    assert (attended.status, missed.status) == ("completed", "booked")
    cancelled = AuditEvent.objects.filter(action="appointment.cancel").order_by("seq")
    assert [e.object_id for e in cancelled] == [str(coming.pk), str(later.pk)]


@pytest.mark.parametrize("status", ["on_hold", "discharged"])
def test_no_new_evaluation_or_visit_starts_on_an_episode_that_is_not_active(world, as_user, status):
    world.harbor_episode.status = status
    world.harbor_episode.save()
    client = as_user(world.alice)
    p, e = world.harbor_patient.pk, world.harbor_episode.pk
    for method, url in (("get", f"/patients/{p}/evaluations/episode/{e}/new/"),
                        ("post", f"/patients/{p}/evaluations/episode/{e}/new/"),
                        ("post", f"/patients/{p}/visits/start/{e}/")):
        response = getattr(client, method)(url, follow=True)
        page = html.unescape(response.content.decode())
        assert response.redirect_chain[-1][0] == f"/patients/{p}/", url
        assert ("on hold: resume it" if status == "on_hold" else "discharged: reopen it") in page, url
    assert not Visit.objects.filter(episode=world.harbor_episode).exists()
    from palpate.evaluations.models import Evaluation

    assert not Evaluation.objects.filter(episode=world.harbor_episode).exists()
