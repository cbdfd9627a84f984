"""Signing a visit note: an empty assessment or plan is asked for (unless the clinic allows it), and
a service at 0 minutes (not billed) is named in the sign panel and confirmed before signing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from palpate.audit.models import AuditEvent
from palpate.lib.models_common import RecordStatus
from palpate.plans.models import PlanOfCare
from palpate.visits.models import ComplementaryRow, Visit
from tests.web.test_visits import note_url, read_form, signed_visit, start

pytestmark = pytest.mark.django_db


def _signed_plan_with_a_therapy(world) -> PlanOfCare:  # noqa: ANN001
    return PlanOfCare.objects.create(
        clinic=world.harbor, patient=world.harbor_patient, episode=world.harbor_episode, created_by=world.alice,
        start_date=dt.date(2026, 11, 1), status=RecordStatus.SIGNED, signed_at=timezone.now(), signed_by=world.alice,
        complementary=[{"therapy": "postural_training", "why": "Posture at the desk"}])


def test_signing_with_an_empty_assessment_and_plan_is_refused_naming_both_and_the_note_is_kept(world, as_user):
    client = as_user(world.alice)
    visit = start(client, world, written=False)
    Visit.objects.filter(pk=visit.pk).update(subjective="Felt better")
    page = client.get(f"{note_url(visit)}sign/").content.decode()
    assert "Write the assessment and the plan before signing" in page
    refused = client.post(f"{note_url(visit)}sign/", {"version": str(visit.version)})
    assert refused.status_code == 409
    assert "Write the assessment and the plan before signing" in refused.content.decode()
    visit.refresh_from_db()
    assert not visit.is_signed and visit.subjective == "Felt better"
    assert not AuditEvent.objects.filter(action="visit.sign").exists()


def test_save_and_sign_with_only_the_plan_empty_saves_the_draft_and_names_the_plan(world, as_user):
    client = as_user(world.alice)
    visit = start(client, world, written=False)
    data = read_form(client.get(note_url(visit)).content.decode())
    data["assessment"], data["sign"] = ["Tolerated well."], ["1"]
    response = client.post(note_url(visit), data, follow=True)
    assert "Saved, but not signed: Write the plan before signing: it is empty." in response.content.decode()
    visit.refresh_from_db()
    assert not visit.is_signed and visit.assessment == "Tolerated well."


def test_a_clinic_that_allows_it_signs_a_note_without_assessment_or_plan(world, as_user):
    world.harbor.sign_requires_assessment_and_plan = False
    world.harbor.save(update_fields=["sign_requires_assessment_and_plan"])
    client = as_user(world.alice)
    visit = start(client, world, written=False)
    assert client.post(f"{note_url(visit)}sign/", {"version": str(visit.version)}).status_code == 302
    visit.refresh_from_db()
    assert visit.is_signed


def test_the_owner_turns_the_setting_off_on_the_clinic_settings_page(world, as_user):
    client = as_user(world.olivia)
    assert "A visit note needs its assessment and plan to be signed" in client.get("/clinics/settings/").content.decode()
    base = {"name": "Harbor Physical Therapy", "idle_timeout_minutes": "20", "session_max_hours": "12",
            "payer_unit_rule": "cms"}
    assert client.post("/clinics/settings/", {**base, "sign_requires_assessment_and_plan": "on"}).status_code == 302
    world.harbor.refresh_from_db()
    assert world.harbor.sign_requires_assessment_and_plan
    assert client.post("/clinics/settings/", base).status_code == 302
    world.harbor.refresh_from_db()
    assert not world.harbor.sign_requires_assessment_and_plan


def test_complementary_minutes_carry_forward_from_the_last_signed_visit(world, as_user):
    signed_visit(world, rows=[("petrissage", "lower_back", "", "moderate", 7)], complementary=[("heat", 12)])
    visit = start(as_user(world.alice), world)
    assert [(c.therapy, c.minutes) for c in visit.complementary.all()] == [("heat", 12)]


def test_a_service_at_0_minutes_is_named_before_signing_and_needs_a_confirmation(world, as_user):
    _signed_plan_with_a_therapy(world)
    client = as_user(world.alice)
    visit = start(client, world)
    assert [(c.therapy, c.minutes) for c in visit.complementary.all()] == [("postural_training", 0)]
    panel = client.get(f"{note_url(visit)}sign/").content.decode()
    assert "Not billed: 0 minutes" in panel and "Postural training" in panel and "postural_training" not in panel
    assert "I confirm these were not given today" in panel

    refused = client.post(f"{note_url(visit)}sign/", {"version": str(visit.version)})
    assert refused.status_code == 409 and "Confirm the rows at 0 minutes" in refused.content.decode()
    assert not Visit.objects.get(pk=visit.pk).is_signed

    # "Save and sign" on the note page does not sign either: it leads to the sign panel that asks.
    data = read_form(client.get(note_url(visit)).content.decode())
    data["sign"] = ["1"]
    response = client.post(note_url(visit), data)
    assert response.status_code == 302 and response["Location"].endswith("/sign/")
    visit.refresh_from_db()
    assert not visit.is_signed

    signed = client.post(f"{note_url(visit)}sign/", {"version": str(visit.version), "confirm_zero_minutes": "1"})
    assert signed.status_code == 302
    visit.refresh_from_db()
    assert visit.is_signed and ComplementaryRow.objects.get(visit=visit).minutes == 0
