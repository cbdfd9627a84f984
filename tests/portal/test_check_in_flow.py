"""Signing a visit schedules the check-in; a warning sign flags the treating therapist; the next note uses it."""

from __future__ import annotations

import datetime as dt

from django.core import mail
from django.utils import timezone

from palpate.audit.models import AuditEvent
from palpate.portal.checkins import send_due
from palpate.portal.models import PortalSettings, WarningFlag
from palpate.reported.models import CheckIn, CheckInStatus
from tests.portal.conftest import sent_link, signed_visit

CALF = {"soreness": "6", "soreness_hours": "30", "relief": "some", "programme": "some",
        "warning_signs": ["calf_pain_swelling"], "side_calf_pain_swelling": "left",
        "patient_note": "My left calf is swollen and warm."}


def test_signing_a_visit_schedules_its_check_in_at_the_clinics_delay(world, django_capture_on_commit_callbacks,
                                                                    monkeypatch):
    from palpate.portal import tasks

    PortalSettings.objects.create(clinic=world.harbor, check_in_delay_hours=36, phone="555-0100")
    world.harbor_patient.email = "maria@example.org"
    world.harbor_patient.save()
    queued, real = [], tasks.create_check_in
    monkeypatch.setattr(tasks, "create_check_in", queued.append)  # the queue itself is tested in tests/ops
    with django_capture_on_commit_callbacks(execute=True):
        visit = signed_visit(world, timezone.localdate())
    assert queued == [visit.pk]  # queued once the signature committed
    real.call_local(visit.pk)  # what the worker then runs (twice is the same as once)
    real.call_local(visit.pk)
    check_in = CheckIn.objects.get(visit_id=visit.pk)
    assert check_in.status == CheckInStatus.SCHEDULED and check_in.therapist == world.alice
    assert check_in.due_at == visit.signed_at + dt.timedelta(hours=36)
    assert "calf_pain_swelling" in check_in.asked_signs and "bruising_anticoagulated" not in check_in.asked_signs
    assert not send_due(check_in.pk, timezone.now())  # not due yet: nothing sent
    assert not mail.outbox
    assert send_due(check_in.pk, check_in.due_at + dt.timedelta(seconds=1))
    assert not send_due(check_in.pk, check_in.due_at + dt.timedelta(seconds=2))  # once only
    assert len(mail.outbox) == 1 and "maria@example.org" in mail.outbox[0].to
    assert "/portal/c/" in mail.outbox[0].body and "Low back" not in mail.outbox[0].body


def test_a_clinic_can_turn_check_ins_off_and_a_patient_without_email_gets_none(world):
    from palpate.portal.checkins import do_create_check_in

    visit = signed_visit(world, timezone.localdate())
    check_in = do_create_check_in(visit)
    assert check_in.status == CheckInStatus.NOT_SENT and "no email" in check_in.not_sent_reason
    PortalSettings.objects.create(clinic=world.harbor, check_ins=False)
    later = signed_visit(world, timezone.localdate() - dt.timedelta(days=1))
    assert do_create_check_in(later) is None


def test_the_delay_is_between_24_and_48_hours(world, as_user):
    response = as_user(world.olivia).post("/clinics/portal/", {"phone": "555-0100", "emergency_number": "911",
                                                               "check_ins": "on", "check_in_delay_hours": "12",
                                                               "link_valid_days": "7"})
    assert response.status_code == 200 and b"greater than or equal to 24" in response.content
    assert as_user(world.alice).get("/clinics/portal/").status_code == 403


def test_calf_pain_with_swelling_tells_the_patient_to_call_and_flags_the_therapist(portal, client, as_user):
    PortalSettings.objects.create(clinic=portal.world.harbor, phone="555-0100", emergency_number="112")
    url = sent_link(portal.check_in)
    done = client.post(url, CALF)
    assert done.status_code == 200
    assert b"Call us today on 555-0100" in done.content
    flag = WarningFlag.objects.get()
    assert (flag.sign, flag.side, flag.therapist, flag.urgency) == ("calf_pain_swelling", "left", portal.world.alice,
                                                                    "same_day")
    today = as_user(portal.world.alice).get("/").content.decode()
    assert "Urgent: warning signs reported by patients" in today and "Calf pain or swelling" in today
    assert "screen for DVT" in today and "before any further work on that leg" in today
    chart = as_user(portal.world.alice).get(f"/patients/{portal.patient.pk}/").content.decode()
    assert "Urgent: warning sign reported by the patient" in chart and "wells" in chart.lower()


def test_breathlessness_sends_the_patient_to_the_emergency_number(portal, client):
    PortalSettings.objects.create(clinic=portal.world.harbor, phone="555-0100", emergency_number="112")
    done = client.post(sent_link(portal.check_in), {**CALF, "warning_signs": ["breathless_chest_pain"]})
    content = done.content.decode()
    assert content.index("Call 112 now.") >= 0 and WarningFlag.objects.get().urgency == "emergency"


def test_other_therapists_and_clinics_do_not_see_the_flag_but_the_owner_does(portal, client, as_user):
    client.post(sent_link(portal.check_in), CALF)
    assert b"Calf pain or swelling" not in as_user(portal.world.charlie).get("/").content
    assert b"Calf pain or swelling" in as_user(portal.world.olivia).get("/").content
    assert b"Calf pain or swelling" not in as_user(portal.world.fran).get("/").content


def test_a_flag_is_acknowledged_with_a_note_audited_and_leaves_today(portal, client, as_user):
    client.post(sent_link(portal.check_in), CALF)
    flag = WarningFlag.objects.get()
    alice = as_user(portal.world.alice)
    url = f"/patients/{portal.patient.pk}/portal/warning-signs/"
    empty = alice.post(url, {"flag": flag.pk, f"f{flag.pk}-note": " "})
    assert empty.status_code == 200 and WarningFlag.objects.get().is_open
    alice.post(url, {"flag": flag.pk, f"f{flag.pk}-note": "Called her; Wells today before any leg work."})
    flag.refresh_from_db()
    assert not flag.is_open and flag.acknowledged_by == portal.world.alice
    event = AuditEvent.objects.get(action="portal.flag_acknowledge")
    assert event.new["note"].startswith("Called her")
    assert b"Calf pain or swelling" not in alice.get("/").content


def test_the_next_note_takes_the_reported_soreness_and_lowers_the_carried_rows(portal, client, as_user):
    client.post(sent_link(portal.check_in), CALF)
    alice = as_user(portal.world.alice)
    response = alice.post(f"/patients/{portal.patient.pk}/visits/start/{portal.world.harbor_episode.pk}/")
    assert response.status_code == 302
    from palpate.visits.models import Visit

    draft = Visit.objects.filter(status="draft").get()
    assert (draft.soreness_since_last, draft.soreness_hours, draft.relief) == (6, 30, "some")
    assert draft.subjective.startswith(f"Reported by the patient on {timezone.localdate():%Y-%m-%d}")
    assert "WARNING SIGN reported: Calf pain or swelling (left leg)" in draft.subjective
    assert [(r.technique, r.pressure) for r in draft.treatments.all()] == [("petrissage", "light")]
    # Lowered by the core's one dose rule (visits.carry), shown and kept on the row like a typed soreness.
    [change] = draft.carried_forward["changes"]
    assert (change["action"], change["from_pressure"], change["to_pressure"]) == ("lowered", "moderate", "light")
    assert "moderate to light" in change["reason"] and "soreness 6/10" in change["reason"]
    page = alice.get(response["Location"]).content.decode()
    assert "Reported by the patient on" in page
    # The engine's screen of the new note already used the reported soreness.
    assert "soreness 6/10" in str(draft.screen_result)


def test_a_check_in_not_answered_leaves_the_next_note_as_before(portal, as_user):
    as_user(portal.world.alice).post(f"/patients/{portal.patient.pk}/visits/start/{portal.world.harbor_episode.pk}/")
    from palpate.visits.models import Visit

    draft = Visit.objects.filter(status="draft").get()
    assert draft.soreness_since_last is None
    assert [(r.technique, r.pressure) for r in draft.treatments.all()] == [("petrissage", "moderate")]


def test_bad_answers_come_back_with_what_to_fix_and_nothing_lost(portal, client):
    url = sent_link(portal.check_in)
    response = client.post(url, {**CALF, "soreness": "", "soreness_hours": "-3"})
    assert response.status_code == 200
    content = response.content.decode()
    assert "Choose a number from 0 to 10" in content and "Write 0 or more hours" in content
    assert "My left calf is swollen and warm." in content
    assert CheckIn.objects.get(pk=portal.check_in.pk).status == CheckInStatus.SENT
