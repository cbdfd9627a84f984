"""A person signs in, registers a patient, finds them and opens the chart; another clinic cannot."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.e2e


def test_a_therapist_creates_a_patient_finds_it_in_the_list_and_opens_it(live_server, demo_world, page, screenshot):
    base = live_server.url
    sign_in(page, base, "harbor-pt")
    screenshot("today")
    page.get_by_role("link", name="Patients").click()
    page.get_by_role("link", name="Add patient").click()

    # A mistake first: the form must say what to fix and keep what was typed.
    page.get_by_label("First name").fill("Ingrid")
    page.get_by_label("Last name").fill("Vasquez-Holm")
    page.get_by_label("Date of birth").fill("2999-01-01")
    page.get_by_label("Sex").select_option("female")
    page.get_by_role("button", name="Add patient").click()
    # At its field, and as a link to the field in the error summary that has the focus.
    assert page.get_by_text("The date of birth is in the future; check the year.", exact=True).is_visible()
    assert page.locator("[data-error-summary]").get_by_role("link", name=re.compile("The date of birth is in the future")).is_visible()
    assert page.get_by_label("First name").input_value() == "Ingrid"
    screenshot("patient-form-error")

    page.get_by_label("Date of birth").fill("1979-04-12")
    page.get_by_role("button", name="Add patient").click()
    page.wait_for_url(re.compile(r"/patients/\d+/$"))
    assert page.get_by_role("heading", name="Ingrid Vasquez-Holm").is_visible()
    chart_url = page.url

    page.get_by_role("link", name="Patients").click()
    page.get_by_role("searchbox", name="Search patients").fill("Vasquez")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="Vasquez-Holm, Ingrid").click()
    page.wait_for_url(chart_url)
    screenshot("patient-chart")
    assert page.get_by_text("Record number").is_visible()


def test_the_other_clinics_user_gets_404_for_that_patient(live_server, demo_world, page):
    from palpate.clinics.models import Clinic
    from palpate.patients.models import Patient

    harbor_patient = Patient.objects.filter(clinic=Clinic.objects.get(slug="harbor")).first()
    sign_in(page, live_server.url, "summit-pt")
    response = page.goto(f"{live_server.url}/patients/{harbor_patient.pk}/")
    assert response.status == 404
    assert page.get_by_role("heading", name="Not found").is_visible()
    assert harbor_patient.family_name not in page.content()
