"""The reads the probe found unaudited are audited: every page that shows patient data writes a read."""

from __future__ import annotations

import datetime as dt

import pytest

from palpate.audit.models import AuditEvent


def _reads(action: str, patient_id: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action, patient_id=patient_id))


PAGES = {
    "patient.edit_view": "/patients/{p}/edit/",
    "episode.edit_view": "/patients/{p}/episodes/{e}/edit/",
    "plan.create_view": "/patients/{p}/plans/episodes/{e}/new/",
    "evaluation.check_view": "/patients/{p}/evaluations/episode/{e}/check/",
    "referral.status_view": "/patients/{p}/evaluations/referrals/{r}/status/",
}


@pytest.mark.parametrize("action", sorted(PAGES))
def test_opening_the_page_is_an_audited_read_by_whoever_opened_it(clinical_world, as_user, action):
    world = clinical_world.world
    response = as_user(world.alice).get(PAGES[action].format(**clinical_world.ids()))
    assert response.status_code == 200
    [event] = _reads(action, world.harbor_patient.pk)
    assert event.actor == world.alice and event.clinic_id == world.harbor.pk


def test_the_live_complexity_hint_reads_nothing_of_the_chart_and_is_not_a_read(clinical_world, as_user):
    world = clinical_world.world
    url = PAGES["evaluation.check_view"].format(**clinical_world.ids())
    assert as_user(world.alice).get(url, {"part": "complexity"}).status_code == 200
    assert not _reads("evaluation.check_view", world.harbor_patient.pk)


def test_a_saved_edit_is_audited_as_the_change_not_as_a_read(world, as_user):
    from tests.web.test_patients import VALID

    url = f"/patients/{world.harbor_patient.pk}/edit/"
    assert as_user(world.alice).post(url, {**VALID, "phone": "555-0199"}).status_code == 302
    assert not _reads("patient.edit_view", world.harbor_patient.pk)
    assert AuditEvent.objects.filter(action="patient.update", patient_id=world.harbor_patient.pk).exists()


def test_the_psfs_form_showing_the_patients_earlier_activities_is_an_audited_read(world, as_user):
    from palpate.outcomes.models import OutcomeMeasurement

    OutcomeMeasurement.objects.create(clinic=world.harbor, patient=world.harbor_patient, episode=world.harbor_episode,
                                      instrument="psfs", taken_on=dt.date(2026, 11, 2), answers=[3, 4],
                                      activities=["Lifting my grandson", "Gardening"], valid=True, score=3.5,
                                      entered_by=world.alice)
    url = f"/patients/{world.harbor_patient.pk}/outcomes/episodes/{world.harbor_episode.pk}/record/psfs/"
    body = as_user(world.bob).get(url).content.decode()
    assert "Lifting my grandson" in body
    [event] = _reads("outcomes.previous_activities_view", world.harbor_patient.pk)
    assert event.actor == world.bob and event.new == {"instrument": "psfs"}


def test_a_psfs_form_with_nothing_earlier_to_show_is_not_a_read(world, as_user):
    url = f"/patients/{world.harbor_patient.pk}/outcomes/episodes/{world.harbor_episode.pk}/record/psfs/"
    assert as_user(world.alice).get(url).status_code == 200
    assert not _reads("outcomes.previous_activities_view", world.harbor_patient.pk)
