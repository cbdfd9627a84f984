"""The roles as the README promises them, page by page and action by action.

Two tables: what each role may do (``palpate.clinics.roles``, the one permission matrix every view
asks), and which patient pages each role opens (every ``matrix_*.py``'s ``ROLE_GET``, one row per
patient URL: the roles that get the page, every other role a 403). Then the assistant's limits
where a page alone does not show them: an assistant documents visits under a therapist's signed
plan and nothing more.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from palpate.clinics.roles import PERMISSIONS, Role
from tests.web.roles import PERSONA
from tests.web.test_access import PATIENT_URLS, ROLE_GET

# What each role may do. A new action must be placed in this table on purpose.
EXPECTED_ACTIONS = {
    Role.OWNER: {"patient.view", "patient.write", "clinical.view", "clinical.write", "evaluation.write", "plan.write",
                 "referral.resolve", "visit.without_signed_plan", "note.sign", "safety.override", "audit.view",
                 "audit.export", "clinic.manage", "staff.manage"},
    Role.THERAPIST: {"patient.view", "patient.write", "clinical.view", "clinical.write", "evaluation.write",
                     "plan.write", "referral.resolve", "visit.without_signed_plan", "note.sign", "safety.override"},
    Role.ASSISTANT: {"patient.view", "patient.write", "clinical.view", "clinical.write"},
    Role.FRONT_DESK: {"patient.view", "patient.write"},
    Role.AUDITOR: {"patient.view", "clinical.view", "audit.view"},
}


def test_each_role_may_do_exactly_what_the_table_says():
    assert {role: set(actions) for role, actions in PERMISSIONS.items()} == EXPECTED_ACTIONS


def test_every_patient_page_has_a_row_in_the_role_table():
    assert set(ROLE_GET) == set(PATIENT_URLS), "add the page's roles to its app's matrix_*.py ROLE_GET"


@pytest.mark.parametrize("name", sorted(PATIENT_URLS))
def test_each_role_opens_exactly_the_pages_its_row_names(clinical_world, client, name):
    world, ids = clinical_world.world, clinical_world.ids()
    url = PATIENT_URLS[name][0].format(**ids)
    answers = {}
    for role, persona in PERSONA.items():
        client.force_login(getattr(world, persona))
        answers[role] = client.get(url).status_code
        client.logout()
    expected = {role: 200 if role in ROLE_GET[name] else 403 for role in PERSONA}
    assert answers == expected


# -- the assistant ---------------------------------------------------------------------------------


def _sign(plan, by) -> None:  # noqa: ANN001
    from palpate.lib.models_common import sign_record

    sign_record(plan, by, timezone.now())
    plan.start_date = dt.date(2026, 11, 2)
    plan.save()


def test_an_assistant_cannot_write_an_evaluation(clinical_world, as_user):
    from palpate.evaluations.models import Evaluation

    world = clinical_world.world
    before = Evaluation.objects.count()
    url = f"/patients/{world.harbor_patient.pk}/evaluations/episode/{world.harbor_episode.pk}/new/"
    response = as_user(world.bob).post(url, {"performed_on": "2026-11-03", "chief_complaint": "Back pain"})
    assert response.status_code == 403
    assert "therapist evaluates" in response.content.decode() or "does not allow" in response.content.decode()
    assert Evaluation.objects.count() == before


def test_an_assistant_cannot_start_or_edit_a_plan_of_care(clinical_world, as_user):
    from palpate.plans.models import PlanOfCare

    world = clinical_world.world
    before = PlanOfCare.objects.count()
    client = as_user(world.bob)
    assert client.post(f"/patients/{world.harbor_patient.pk}/plans/episodes/{world.harbor_episode.pk}/new/").status_code == 403
    assert client.post(f"/patients/{world.harbor_patient.pk}/plans/{clinical_world.plan.pk}/edit/",
                       {"goals": "x"}).status_code == 403
    assert PlanOfCare.objects.count() == before


def test_an_assistant_cannot_clear_a_referral(clinical_world, as_user):

    world, referral = clinical_world.world, clinical_world.referral
    url = f"/patients/{world.harbor_patient.pk}/evaluations/referrals/{referral.pk}/status/"
    response = as_user(world.bob).post(url, {"status": "cleared", "note": "Physician says fine"})
    assert response.status_code == 403
    referral.refresh_from_db()
    assert referral.status == "open"


def test_an_assistant_cannot_start_a_visit_on_an_episode_without_a_signed_plan(clinical_world, as_user):
    from palpate.visits.models import Visit

    world = clinical_world.world
    before = Visit.objects.count()
    url = f"/patients/{world.harbor_patient.pk}/visits/start/{world.harbor_episode.pk}/"
    response = as_user(world.bob).post(url)
    assert response.status_code == 403
    assert "signed plan of care" in response.content.decode()
    assert Visit.objects.count() == before


def test_an_assistant_starts_a_visit_under_a_signed_plan(clinical_world, as_user):
    from palpate.visits.models import Visit

    world = clinical_world.world
    _sign(clinical_world.plan, world.alice)
    url = f"/patients/{world.harbor_patient.pk}/visits/start/{world.harbor_episode.pk}/"
    client = as_user(world.bob)
    assert client.get(url).status_code == 200
    response = client.post(url)
    assert response.status_code == 302
    visit = Visit.objects.filter(therapist=world.bob).get()
    assert visit.plan == clinical_world.plan


def test_an_assistant_cannot_save_a_note_on_an_episode_without_a_signed_plan(clinical_world, as_user):
    world, visit = clinical_world.world, clinical_world.visit
    client = as_user(world.bob)
    page = client.get(f"/patients/{world.harbor_patient.pk}/visits/{visit.pk}/").content.decode()
    assert 'name="subjective"' not in page, "the note is read-only for the assistant"
    response = client.post(f"/patients/{world.harbor_patient.pk}/visits/{visit.pk}/",
                           {"subjective": "Feels better", "version": str(visit.version)})
    assert response.status_code == 403
    visit.refresh_from_db()
    assert visit.subjective != "Feels better"


def test_the_therapist_still_starts_a_visit_under_a_draft_plan(clinical_world, as_user):
    world = clinical_world.world
    response = as_user(world.alice).post(f"/patients/{world.harbor_patient.pk}/visits/start/{world.harbor_episode.pk}/")
    assert response.status_code == 302
