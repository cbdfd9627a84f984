"""A patient sees only their own records: another patient's pages are the portal's "not found"."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import URLPattern, get_resolver
from django.utils import timezone

from palpate.patients.models import Patient
from palpate.plans.models import PlanOfCare
from palpate.portal.models import QuestionnaireAssignment
from palpate.reported.models import CheckIn


@pytest.fixture
def others(portal):  # noqa: ANN001, ANN201
    """Records of two other patients: Ana at the same clinic, and Sofia at Summit."""
    world = portal.world
    ana = Patient.objects.create(clinic=world.harbor, record_number="A2", given_name="Ana", family_name="Lopez",
                                 date_of_birth=dt.date(1980, 1, 1), sex="female")
    rows = {}
    for patient in (ana, world.summit_patient):
        episode = patient.episodes.create(clinic=patient.clinic, condition="low_back_pain", body_region="lower_back",
                                          diagnosis="Low back pain", icd10_code="M54.50",
                                          onset_date=dt.date(2026, 10, 1), payer="commercial", opened_on=dt.date(2026, 10, 2))
        therapist = world.alice if patient.clinic == world.harbor else world.charlie
        check_in = CheckIn.objects.create(clinic=patient.clinic, patient=patient, episode=episode, visit_id=10**6 + patient.pk,
                                          visit_date=timezone.localdate(), therapist=therapist, status="sent",
                                          due_at=timezone.now(), asked_signs=["fever"])
        assignment = QuestionnaireAssignment.objects.create(
            clinic=patient.clinic, patient=patient, episode=episode, instrument="odi", assigned_by=therapist,
            assigned_at=timezone.now(), open_from=timezone.localdate(), due_on=timezone.localdate())
        plan = PlanOfCare.objects.create(clinic=patient.clinic, patient=patient, episode=episode, created_by=therapist,
                                         status="signed", signed_at=timezone.now(), start_date=timezone.localdate(),
                                         home_program=[{"exercise": "pelvic_tilt", "dose": "x", "instructions": "y"}])
        rows[patient.clinic.slug] = (check_in, assignment, plan)
    return rows


@pytest.mark.parametrize("clinic", ["harbor", "summit"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_another_patients_pages_are_not_found(patient_client, others, clinic, method):
    check_in, assignment, plan = others[clinic]
    for url in (f"/portal/check-ins/{check_in.pk}/", f"/portal/questionnaires/{assignment.pk}/",
                f"/portal/handouts/{plan.pk}.pdf"):
        response = getattr(patient_client, method)(url, {"soreness": "1"})
        assert response.status_code in (404, 405), url
        if response.status_code == 404:
            assert b"We could not find that page" in response.content
    assert CheckIn.objects.get(pk=check_in.pk).status == "sent"


def test_the_home_page_lists_only_the_patients_own_to_dos(patient_client, others, portal):
    body = patient_client.get("/portal/").content.decode()
    assert "Hello, Maria" in body and "Ana" not in body and "Sofia" not in body


def test_an_id_too_large_is_not_found_not_a_crash(patient_client):
    assert patient_client.get(f"/portal/check-ins/{10**25}/").status_code == 404


def test_every_patient_side_url_goes_through_the_portal_door():
    resolver = get_resolver()
    portal = next(r for r in resolver.url_patterns if getattr(r, "namespace", None) == "portal")
    views = [p.callback for p in portal.url_patterns if isinstance(p, URLPattern)]
    assert len(views) >= 12
    assert all(getattr(view, "portal_view", False) for view in views)


def test_every_patient_page_names_the_clinic_and_its_phone(patient_client, portal):
    from palpate.portal.models import PortalSettings

    PortalSettings.objects.create(clinic=portal.world.harbor, phone="555 0100")
    for url in ("/portal/", "/portal/exercises/", "/portal/progress/", "/portal/handouts/",
                "/portal/exercises/reminders/", f"/portal/check-ins/{portal.check_in.pk}/", "/portal/nowhere/"):
        body = patient_client.get(url).content.decode()
        assert "Harbor Physical Therapy" in body and 'href="tel:5550100"' in body, url


def test_patient_pages_are_never_kept_by_the_browser(patient_client):
    assert patient_client.get("/portal/").headers["Cache-Control"] == "no-store"
