"""The home programme online: the exercises of the signed plan, a daily log, adherence for the therapist."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from palpate.reported.models import ExerciseLog
from palpate.reported.services import adherence


def _log(client, day=None, **extra):  # noqa: ANN001, ANN003, ANN202
    data = {"done_pelvic_tilt": "yes", "sets_pelvic_tilt": "2", "pain_pelvic_tilt": "3",
            "done_cat_camel": "no", "sets_cat_camel": "", "pain_cat_camel": "", **extra}
    if day:
        data["day"] = day.isoformat()
    return client.post("/portal/exercises/", data)


def test_the_patient_sees_the_programme_with_dose_and_plain_instructions(patient_client):
    body = patient_client.get("/portal/exercises/").content.decode()
    assert "Pelvic tilt" in body and "Cat and camel" in body
    assert "10 slow repetitions" in body and "Lie on your back with knees bent" in body


def test_the_patient_logs_a_day_and_can_correct_it(patient_client, portal):
    assert _log(patient_client).status_code == 302
    assert _log(patient_client, done_cat_camel="yes").status_code == 302
    logs = {(log.exercise, log.done, log.sets, log.pain_during) for log in ExerciseLog.objects.all()}
    assert logs == {("pelvic_tilt", True, 2, 3), ("cat_camel", True, None, None)}


def test_a_day_out_of_reach_and_bad_numbers_are_refused_with_what_to_fix(patient_client):
    response = _log(patient_client, sets_pelvic_tilt="-1", pain_pelvic_tilt="11")
    assert response.status_code == 200 and b"Write 0 or more" in response.content
    assert not ExerciseLog.objects.exists()
    far = _log(patient_client, day=timezone.localdate() - dt.timedelta(days=30))
    assert far.status_code == 302  # an unknown day falls back to today, never a day out of reach
    assert set(ExerciseLog.objects.values_list("day", flat=True)) == {timezone.localdate()}


def test_adherence_is_the_share_of_prescribed_days_and_the_therapist_sees_it(patient_client, portal, as_user):
    today = timezone.localdate()
    for back in (1, 2, 3):
        _log(patient_client, day=today - dt.timedelta(days=back), done_cat_camel="yes")
    found = adherence(portal.plan, today - dt.timedelta(days=7), today)
    # 7 days (today not logged yet: yesterday and the 6 before), two exercises, each done on 3 days.
    assert (found.done, found.prescribed, found.percent) == (6, 14, 43)
    chart = as_user(portal.world.alice).get(f"/patients/{portal.patient.pk}/").content.decode()
    assert "43%" in chart and "of prescribed days" in chart
    assert "Pelvic tilt: 3 of 7 days, pain during up to 3/10" in chart


def test_the_next_visit_note_says_how_the_programme_went(patient_client, portal, as_user):
    from palpate.visits.models import Visit

    Visit.objects.filter(pk=portal.visit.pk).update(visit_date=timezone.localdate() - dt.timedelta(days=3))
    _log(patient_client, day=timezone.localdate() - dt.timedelta(days=1))
    alice = as_user(portal.world.alice)
    alice.post(f"/patients/{portal.patient.pk}/visits/start/{portal.world.harbor_episode.pk}/")
    draft = Visit.objects.get(status="draft")
    assert "Home programme logged by the patient: 25% of prescribed days (1 of 4 exercise-days" in draft.subjective


def test_a_reminder_can_be_set_and_is_sent_once_on_a_day_without_a_log(patient_client, portal, settings):
    from django.core import mail

    from palpate.portal.models import PortalAccount
    from palpate.portal.tasks import programme_reminders

    hour = timezone.localtime().hour
    response = patient_client.post("/portal/exercises/reminders/", {"enabled": "on", "hour": str(max(hour, 6))})
    assert response.status_code == 302
    PortalAccount.objects.update(reminder_hour=hour)
    programme_reminders.call_local()
    programme_reminders.call_local()
    assert len(mail.outbox) == 1 and "home exercises" in mail.outbox[0].subject
