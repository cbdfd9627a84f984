"""The server errors the probe found (issue 12, item 10) answer as what they are: bad input or a
conflict, each saying what to fix, never a 500."""

from __future__ import annotations

import json

from palpate.patients.models import Patient
from palpate.plans.models import PlanOfCare
from palpate.visits.models import Visit
from tests.web.test_outcomes_wording import ODI_WORDING, wording_url


def test_start_visit_under_an_unsigned_draft_plan_opens_the_draft_note(world, as_user):
    # A draft plan has no start date until it is signed; formatting it failed with a 500.
    PlanOfCare.objects.create(clinic=world.harbor, patient=world.harbor_patient, episode=world.harbor_episode,
                              created_by=world.alice, start_date=None,
                              items=[{"technique": "effleurage", "region": "lower_back", "side": "",
                                      "pressure": "light", "minutes": 6}])
    client = as_user(world.alice)
    url = f"/patients/{world.harbor_patient.pk}/visits/start/{world.harbor_episode.pk}/"
    page = client.get(url)
    assert page.status_code == 200 and "draft plan of care (not signed)" in page.content.decode()
    response = client.post(url)
    assert response.status_code == 302
    visit = Visit.objects.get(episode=world.harbor_episode)
    assert [(r.technique, r.minutes) for r in visit.treatments.all()] == [("effleurage", 6)]
    note = client.get(response["Location"])
    assert note.status_code == 200 and "still a draft (not signed)" in note.content.decode()


LONE_SURROGATE_BODY = ('{"given_name": "Ma\\ud800ria", "family_name": "Garcia", "date_of_birth": "1980-01-02", '
                       '"sex": "female"}')


def test_a_lone_surrogate_in_a_name_through_the_api_is_a_422_that_names_the_field(world, as_user):
    before = Patient.objects.count()
    response = as_user(world.alice).post("/api/patients", LONE_SURROGATE_BODY, content_type="application/json")
    assert response.status_code == 422
    [problem] = response.json()["detail"]
    assert problem["loc"] == ["body", "payload", "given_name"]
    assert "invalid character" in problem["msg"]
    assert Patient.objects.count() == before


def test_a_lone_surrogate_in_a_form_is_a_form_error_and_keeps_the_rest(world, as_user):
    from palpate.patients.forms import PatientForm

    form = PatientForm({"given_name": "Ma\ud800ria", "family_name": "Garcia", "date_of_birth": "1980-01-02",
                        "sex": "female", "address": "1 Quay Street"}, clinic=world.harbor)
    assert not form.is_valid()
    assert list(form.errors) == ["given_name"] and "invalid character" in form.errors["given_name"][0]


def test_an_impossible_date_in_licensed_wording_is_refused_with_a_clear_message(world, as_user):
    wording = ODI_WORDING.replace('"Licensed question 3"', "2026-02-30")
    response = as_user(world.olivia).post(wording_url(world), {"instrument": "odi", "text": wording,
                                                               "licence_note": "L-7"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "cannot exist (day is out of range for month)" in body and "put quotes around" in body
    assert 'value="L-7"' in body, "what was typed is kept"


def test_wording_nested_absurdly_deep_is_refused_not_a_crash(world, as_user):
    response = as_user(world.olivia).post(wording_url(world), {"instrument": "odi", "text": "[" * 50_000})
    assert response.status_code == 200 and "nested too deeply" in response.content.decode()


def test_the_core_says_the_same_to_the_command_line():
    import pytest

    from palpate.core.errors import InputError
    from palpate.core.measures import load_licensed_wording

    with pytest.raises(InputError) as refused:
        load_licensed_wording("odi", "instrument: odi\nitems:\n  1: 2026-13-01\n")
    assert refused.value.code == "malformed_file" and "month must be in 1..12" in refused.value.message
    assert json.loads(json.dumps(refused.value.as_json()))["error"]["code"] == "malformed_file"


def test_a_nul_character_in_a_patient_search_is_a_separator_not_a_crash(world, as_user):
    client = as_user(world.alice)
    response = client.get("/api/patients", {"q": "garc\x00qqq"})
    assert response.status_code == 200 and response.json()["items"] == []
    response = client.get("/api/patients", {"q": "garc\x00ia"})
    assert [p["family_name"] for p in response.json()["items"]] == ["Garcia"]
    assert client.get("/patients/", {"q": "gar\x00cia"}).status_code == 200


def test_a_nul_character_in_audited_text_is_stored_as_a_replacement_character(world, as_user):
    from palpate.audit.models import AuditEvent

    as_user(world.alice).get("/patients/", {"q": "gar\x00cia"})
    event = AuditEvent.objects.filter(action="patient.list").latest("seq")
    assert event.new["query"] == "gar\ufffdcia"


def test_a_browser_name_with_a_nul_does_not_stop_a_sign_in(world, client):
    from palpate.accounts.models import SignedInSession

    response = client.post("/accounts/login/", {"username": "alice", "password": "correct horse battery"},
                           HTTP_USER_AGENT="Bad\x00Agent")
    assert response.status_code == 302
    assert SignedInSession.objects.get(user=world.alice).user_agent == "BadAgent"
