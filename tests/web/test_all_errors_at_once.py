"""A form reports every error in one round: several independent mistakes posted at once are all
named on the one answer, with what was typed kept; never one mistake per save.

Each long staff form gets a post with mistakes of different kinds at once (a bad date, a missing
required field, an out-of-range number, a bad row) and the page must name every one of them. The
clinic settings form's one-round check is in tests/web/test_clinic_settings.py. What needs the
whole input valid (the safety screen, double bookings) may still come in a later round: those are
not mistakes of the input itself.
"""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest

from palpate.discharge.models import Discharge
from palpate.evaluations.forms import LocalFindingRowForm, PainRowForm, RomRowForm
from palpate.evaluations.models import Evaluation
from palpate.patients.models import Episode, Patient
from palpate.plans.models import PlanOfCare
from palpate.visits.models import Visit
from tests.web.test_discharge import complete, page_url
from tests.web.test_discharge import signed_plan as discharge_plan
from tests.web.test_evaluations import form_data, new_url
from tests.web.test_plans import plan_post, plan_url, start_plan
from tests.web.test_visits import note_url, read_form, set_row, start

TOMORROW = (dt.date.today() + dt.timedelta(days=1)).isoformat()


def page_text(response) -> str:  # noqa: ANN001
    return html.unescape(response.content.decode())


def summary_links(body: str) -> list[str]:
    """The error summary's links (href targets), in order."""
    summary = re.search(r'<div class="error-summary".*?</ul>', body, re.S)
    assert summary, "the page has no error summary"
    return re.findall(r'<a href="#([^"]+)"', summary.group(0))


def assert_names_all(response, *messages: str, kept: tuple[str, ...] = (), status: tuple[int, ...] = (200, 400)):  # noqa: ANN001, ANN201
    body = page_text(response)
    assert response.status_code in status, (response.status_code, body[:1500])
    missing = [m for m in messages if m not in body]
    assert not missing, f"not named in the same round: {missing}"
    lost = [value for value in kept if value not in body]
    assert not lost, f"typed but not kept: {lost}"
    return body


# -- rows on their own ------------------------------------------------------------------------------


@pytest.mark.parametrize("form_class, data, fields", [
    (RomRowForm, {"side": "left"}, {"movement", "degrees"}),
    (PainRowForm, {"quality": "sharp"}, {"region", "intensity"}),
    (LocalFindingRowForm, {"days_ago": "3"}, {"code", "region"}),
])
def test_an_evaluation_row_missing_two_things_names_both_at_once(form_class, data, fields):
    form = form_class(data=data)
    assert not form.is_valid()
    assert fields <= set(form.errors), form.errors


def test_a_blank_row_is_still_no_row_and_no_error():
    for form_class in (RomRowForm, PainRowForm, LocalFindingRowForm):
        form = form_class(data={})
        assert form.is_valid() and form.as_json() is None


# -- patients and episodes ----------------------------------------------------------------------------

PATIENT = {"given_name": "Lena", "family_name": "Okafor", "date_of_birth": "1984-03-02", "sex": "female",
           "record_number": "", "phone": "555-111-2222", "email": "lena@example.org", "address": "12 Quay Road"}


def test_it_names_every_mistake_of_a_new_patient_at_once(world, as_user):
    response = as_user(world.alice).post("/patients/new/", {
        **PATIENT, "family_name": "", "date_of_birth": TOMORROW, "email": "lena-at-example", "sex": "nonsense",
        "record_number": world.harbor_patient.record_number})
    assert_names_all(response, "The date of birth is in the future", "This field is required",
                     "Enter a valid email address", "Select a valid choice",
                     f"Record number {world.harbor_patient.record_number} is already used",
                     kept=("Lena", "lena-at-example", "12 Quay Road", TOMORROW))
    assert not Patient.objects.filter(given_name="Lena").exists()


def test_it_names_every_mistake_of_a_patient_edit_at_once(world, as_user):
    patient = world.harbor_patient
    response = as_user(world.alice).post(f"/patients/{patient.pk}/edit/", {
        **PATIENT, "given_name": "", "date_of_birth": "1850-01-01", "email": "not an email"})
    assert_names_all(response, "over 120", "This field is required", "Enter a valid email address",
                     kept=("Okafor", "not an email", "12 Quay Road"))
    patient.refresh_from_db()
    assert patient.given_name == "Maria"


EPISODE = {"condition": "tendinopathy", "body_region": "elbow", "side": "left", "diagnosis": "Lateral epicondylitis",
           "icd10_code": "M77.12", "onset_date": "2026-09-01", "referral_source": "Dr. Park", "payer": "medicare",
           "payer_name": ""}


def test_it_names_every_mistake_of_a_new_episode_at_once(world, as_user):
    patient = world.harbor_patient
    response = as_user(world.alice).post(f"/patients/{patient.pk}/episodes/new/", {
        **EPISODE, "diagnosis": "", "onset_date": TOMORROW, "side": "", "icd10_code": "not a code"})
    assert_names_all(response, "The onset date is in the future", "This field is required",
                     "is paired: choose left or right", kept=("Dr. Park", "not a code", TOMORROW))
    body = page_text(response)
    assert "icd10_code" in "".join(summary_links(body))  # the code's own error is linked too
    assert Episode.objects.filter(patient=patient).count() == 1


def test_it_names_every_mistake_of_an_episode_edit_at_once(world, as_user):
    episode = world.harbor_episode
    response = as_user(world.alice).post(f"/patients/{episode.patient_id}/episodes/{episode.pk}/edit/", {
        **EPISODE, "condition": "low_back_pain", "body_region": "elbow", "onset_date": TOMORROW,
        "payer": "nonsense", "referral_source": "Dr. Lee"})
    assert_names_all(response, "The onset date is in the future", "does not occur at the elbow",
                     "Select a valid choice", kept=("Dr. Lee", TOMORROW))
    episode.refresh_from_db()
    assert episode.body_region == "lower_back"


# -- evaluation ---------------------------------------------------------------------------------------


def test_it_names_every_mistake_of_an_evaluation_at_once(world, as_user):
    """A future date, an impossible temperature and blood pressure (the core's limits), a range of
    motion beyond its limit and a pain row without its region: all in one answer."""
    response = as_user(world.alice).post(new_url(world, world.harbor_episode), form_data(
        performed_on=TOMORROW, temperature_c="80", bp_systolic="400", history="Typed history",
        rom_0_movement="knee:flexion", rom_0_side="left", rom_0_degrees="300",
        pain_0_intensity="7"))
    body = assert_names_all(
        response, "The evaluation date is in the future",
        "body temperature 80 °C is not possible", "systolic blood pressure 400 mmHg is not possible",
        "Choose the painful region", kept=("Typed history", 'value="80"', 'value="400"', 'value="300"'))
    assert re.search(r"(beyond|more than|limit|not possible)[^<]*300|300[^<]*(beyond|limit|not possible)", body) \
        or "Range of motion row 1, degrees" in body
    links = summary_links(body)
    assert {"id_performed_on", "id_temperature_c", "id_bp_systolic"} <= set(links), links
    assert not Evaluation.objects.filter(history="Typed history").exists()


# -- plan of care ------------------------------------------------------------------------------------


def test_it_names_every_mistake_of_the_plan_editor_at_once_and_links_each(world, as_user):
    client = as_user(world.alice)
    plan = start_plan(client, world)
    data = plan_post(plan, frequency=0, start_date="2026-12-01",
                     goals=[{"term": "short", "text": "", "target_date": "2026-12-20"},
                            {"term": "long", "text": "Drive to work", "target_date": "2026-11-01"}],
                     items=[{"technique": "effleurage", "region": "lower_back", "side": "", "pressure": "light",
                             "minutes": "500", "suggestion": ""}],
                     home=[{"exercise": "nonsense", "side": "", "dose": "Typed dose", "instructions": ""}])
    response = client.post(plan_url(plan, "edit/"), data)
    body = assert_names_all(response, "Ensure this value is greater than or equal to 1",
                            "This field is required", "The target date is before the plan's start date",
                            "Ensure this value is less than or equal to 60", "Select a valid choice",
                            kept=("Drive to work", "Typed dose", 'value="500"'))
    links = summary_links(body)
    # Every error in the summary, each a link to its field (not only the non-field ones).
    assert {"id_frequency_per_week", "id_goals-0-text", "id_goals-1-target_date", "id_items-0-minutes",
            "id_home-0-exercise"} <= set(links), links
    assert "The plan was not saved" in body
    assert PlanOfCare.objects.get(pk=plan.pk).version == plan.version


# -- visit note -----------------------------------------------------------------------------------------


def test_it_names_every_mistake_of_a_visit_note_at_once(world, as_user):
    client = as_user(world.alice)
    visit = start(client, world)
    data = read_form(client.get(note_url(visit)).content.decode())
    data.update({"nprs_before": ["11"], "nprs_after": ["-3"], "subjective": ["Felt looser after last time"]})
    set_row(data, "t", 0, technique="friction", region="thigh", side="", pressure="deep", minutes=6)
    response = client.post(note_url(visit), data)
    body = assert_names_all(response, "Enter a number from 0 to 10", "is paired: choose left or right",
                            kept=("Felt looser after last time", 'value="11"', 'value="-3"'))
    assert body.count("Enter a number from 0 to 10") >= 2  # before and after, both
    assert Visit.objects.get(pk=visit.pk).subjective == ""


# -- outcome measure ------------------------------------------------------------------------------------


def test_it_names_every_mistake_of_an_outcome_measure_at_once(world, as_user):
    url = f"/patients/{world.harbor_patient.pk}/outcomes/episodes/{world.harbor_episode.pk}/record/odi/"
    answers = {f"item_{n}": "2" for n in range(1, 11)} | {"item_3": "9", "item_7": "nonsense"}
    response = as_user(world.alice).post(url, {"taken_on": TOMORROW, "visit": "", **answers})
    assert_names_all(response, "The date taken is in the future", "Item 3 (", "Item 7 (",
                     "choose one of the answers shown", kept=(TOMORROW,))
    assert page_text(response).count("choose one of the answers shown") >= 2, "both bad answers are named"


# -- discharge --------------------------------------------------------------------------------------------


def test_it_names_every_mistake_of_a_discharge_summary_at_once(world, as_user):
    discharge_plan(world)
    long_text = "x" * 4001
    response = as_user(world.alice).post(page_url(world), complete(
        reason="nonsense", goal_0="nonsense", reason_detail=long_text, home_program_notes="Walk daily, typed"))
    assert_names_all(response, "Select a valid choice", "Keep the details under 4000 characters",
                     kept=("Walk daily, typed",), status=(400,))
    assert page_text(response).count("Select a valid choice") >= 2  # the reason and the goal
    assert not Discharge.objects.exists()


# -- scheduling, staff, account --------------------------------------------------------------------------


def test_it_names_every_mistake_of_a_booking_at_once(world, as_user):
    response = as_user(world.fran).post("/schedule/book/", {
        "q": "Garcia", "episode": "", "kind": "treatment", "therapist": str(world.alice.pk), "date": "0202-01-05",
        "time": "25:99", "minutes": "9999", "room": ""})
    assert_names_all(response, "Enter a date between", "Enter a valid time", "This field is required",
                     "Ensure this value is less than or equal to", kept=("Garcia", "9999"), status=(400,))


def test_it_names_every_mistake_of_a_staff_invitation_at_once(world, as_user):
    response = as_user(world.olivia).post("/clinics/staff/invite/", {
        "email": "not-an-address", "first_name": "Dina", "last_name": "Novak", "role": "emperor"})
    assert_names_all(response, "Enter a valid email address", "Select a valid choice",
                     kept=("not-an-address", "Dina", "Novak"))


def test_it_names_every_mistake_of_the_account_page_at_once(world, as_user):
    response = as_user(world.alice).post("/accounts/", {
        "first_name": "Alice", "last_name": "Typed", "email": "not an email", "credentials": "PT, DPT",
        "npi": "1234"})
    body = assert_names_all(response, "Enter a valid email address", kept=("not an email", "PT, DPT", "1234"))
    assert {"id_email", "id_npi"} <= set(summary_links(body))


def test_it_names_every_mistake_of_a_password_change_at_once(world, as_user):
    response = as_user(world.alice).post("/accounts/password/", {
        "old_password": "wrong", "new_password1": "calf stretch", "new_password2": "calf stretches"})
    body = assert_names_all(response, "Your old password was entered incorrectly")
    links = summary_links(body)
    assert {"id_old_password", "id_new_password2"} <= set(links), links


def test_a_finding_listed_twice_is_named_with_the_evaluations_other_mistakes(world, as_user):
    response = as_user(world.alice).post(new_url(world, world.harbor_episode), form_data(
        performed_on=TOMORROW, history="Typed history",
        find_0_code="open_wound", find_0_region="lower_back", find_1_code="open_wound", find_1_region="lower_back"))
    assert_names_all(response, "The evaluation date is in the future",
                     "This finding is already listed at this site", kept=("Typed history",))
