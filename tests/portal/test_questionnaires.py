"""Questionnaires at home: assigned by the therapist, filled on a phone, scored by the core, patient-reported."""

from __future__ import annotations

import datetime as dt
import re

from django.core import mail
from django.utils import timezone

from palpate.core import measures
from palpate.outcomes.models import OutcomeMeasurement
from palpate.portal.models import QuestionnaireAssignment

ODI_44 = [2, 2, 2, 3, 2, 2, 3, 2, 2, 2]  # 22 of 50: 44 %
ODI_24 = [1, 1, 1, 2, 1, 1, 2, 1, 1, 1]  # 12 of 50: 24 %


def _assign(client, patient, episode, instrument="odi", repeat=""):  # noqa: ANN001, ANN202
    return client.post(f"/patients/{patient.pk}/portal/questionnaires/", {
        "action": "assign", "episode": episode.pk, "instrument": instrument,
        "due_on": (timezone.localdate() + dt.timedelta(days=3)).isoformat(), "repeat_days": repeat})


def _answers(values):  # noqa: ANN001, ANN202
    return {f"item_{i}": str(v) for i, v in enumerate(values, start=1)}


def test_the_patient_fills_an_assigned_odi_and_the_core_scores_it_as_patient_reported(
        portal, patient_client, as_user, django_capture_on_commit_callbacks):
    from palpate.portal.questionnaires import send_open

    with django_capture_on_commit_callbacks() as queued:
        assert _assign(as_user(portal.world.alice), portal.patient, portal.world.harbor_episode).status_code == 302
    assert len(queued) == 1  # the link is emailed by the worker once the assignment commits
    assignment = QuestionnaireAssignment.objects.get()
    assert send_open(assignment.pk) and not send_open(assignment.pk)  # what the task does, once per round
    assert re.search(r"/portal/q/\S+/", mail.outbox[-1].body)
    home = patient_client.get("/portal/").content.decode()
    assert "Oswestry" in home
    response = patient_client.post(f"/portal/questionnaires/{assignment.pk}/", _answers(ODI_44))
    assert response.status_code == 200 and b"Thank you" in response.content
    measurement = OutcomeMeasurement.objects.get()
    assert measurement.score == measures.score("odi", ODI_44).score == 44
    assert measurement.patient_reported and measurement.entered_by == portal.world.alice
    outcomes = as_user(portal.world.alice).get(
        f"/patients/{portal.patient.pk}/outcomes/episodes/{portal.world.harbor_episode.pk}/").content.decode()
    assert "reported by the patient" in outcomes and "patient-reported" in outcomes
    assigned = QuestionnaireAssignment.objects.get()
    assert assigned.open_from is None  # a single questionnaire is finished
    again = patient_client.post(f"/portal/questionnaires/{assignment.pk}/", _answers(ODI_24))
    assert b"Nothing to fill in" in again.content and OutcomeMeasurement.objects.count() == 1


def test_a_repeating_questionnaire_opens_again_after_its_interval(portal, patient_client, as_user):
    _assign(as_user(portal.world.alice), portal.patient, portal.world.harbor_episode, "quickdash", "14")
    assignment = QuestionnaireAssignment.objects.get()
    patient_client.post(f"/portal/questionnaires/{assignment.pk}/", _answers([2] * 11))
    assignment.refresh_from_db()
    assert assignment.open_from == timezone.localdate() + dt.timedelta(days=14)


def test_too_many_unanswered_items_ask_the_patient_for_more_answers(portal, patient_client, as_user):
    _assign(as_user(portal.world.alice), portal.patient, portal.world.harbor_episode)
    assignment = QuestionnaireAssignment.objects.get()
    answers = {**_answers(ODI_44), "item_1": "na", "item_2": "na", "item_3": "na", "item_4": "na", "item_5": "na",
               "item_6": "na"}
    response = patient_client.post(f"/portal/questionnaires/{assignment.pk}/", answers)
    assert response.status_code == 200 and b"Please answer more of the questions" in response.content
    assert b"Save anyway" not in response.content and not OutcomeMeasurement.objects.exists()


def test_the_patient_reads_their_progress_in_plain_words(portal, patient_client, as_user):
    alice = as_user(portal.world.alice)
    for values in (ODI_44, ODI_24):
        _assign(alice, portal.patient, portal.world.harbor_episode)
        assignment = QuestionnaireAssignment.objects.filter(open_from__isnull=False).get()
        patient_client.post(f"/portal/questionnaires/{assignment.pk}/", _answers(values))
    body = patient_client.get("/portal/progress/").content.decode()
    assert "Your back disability score went from 44 to 24: a real improvement." in body


def test_a_stopped_questionnaire_cannot_be_filled(portal, patient_client, as_user):
    alice = as_user(portal.world.alice)
    _assign(alice, portal.patient, portal.world.harbor_episode)
    assignment = QuestionnaireAssignment.objects.get()
    alice.post(f"/patients/{portal.patient.pk}/portal/questionnaires/", {"action": "stop", "assignment": assignment.pk})
    response = patient_client.post(f"/portal/questionnaires/{assignment.pk}/", _answers(ODI_44))
    assert b"Nothing to fill in" in response.content and not OutcomeMeasurement.objects.exists()


def test_a_date_in_the_past_is_refused_with_a_reason(portal, as_user):
    response = as_user(portal.world.alice).post(f"/patients/{portal.patient.pk}/portal/questionnaires/", {
        "action": "assign", "episode": portal.world.harbor_episode.pk, "instrument": "odi", "due_on": "2020-01-01"})
    assert response.status_code == 200 and b"in the past" in response.content
