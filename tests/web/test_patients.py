from __future__ import annotations

import datetime as dt

from palpate.audit.models import AuditEvent
from palpate.clinics.actor import Actor
from palpate.clinics.models import Membership
from palpate.patients.models import Episode, Patient

VALID = {"given_name": "Lena", "family_name": "Okafor", "date_of_birth": "1984-03-02", "sex": "female",
         "record_number": "", "phone": "555-111-2222", "email": "lena@example.org", "address": ""}


def test_it_creates_a_patient_with_the_next_record_number_and_audits_it(world, as_user):
    response = as_user(world.alice).post("/patients/new/", VALID)
    patient = Patient.objects.get(family_name="Okafor")
    assert response.status_code == 302 and response["Location"] == f"/patients/{patient.pk}/"
    assert patient.clinic == world.harbor
    assert patient.record_number.isdigit()
    event = AuditEvent.objects.get(action="patient.create", patient_id=patient.pk)
    assert event.actor == world.alice and event.new["family_name"] == "Okafor"


def test_a_form_with_errors_keeps_everything_typed(world, as_user):
    bad = {**VALID, "date_of_birth": "2999-01-01", "email": "not-an-email"}
    response = as_user(world.alice).post("/patients/new/", bad)
    body = response.content.decode()
    assert response.status_code == 200
    assert "date of birth is in the future" in body
    assert 'value="Lena"' in body and 'value="555-111-2222"' in body and 'value="not-an-email"' in body
    assert not Patient.objects.filter(family_name="Okafor").exists()


def test_record_numbers_are_unique_within_a_clinic_but_not_across_clinics(world, as_user):
    world.harbor_patient.record_number = "A-1"
    world.harbor_patient.save()
    response = as_user(world.alice).post("/patients/new/", {**VALID, "record_number": "A-1"})
    assert "already used" in response.content.decode()
    as_user(world.charlie).post("/patients/new/", {**VALID, "record_number": "A-1"})
    assert Patient.objects.filter(clinic=world.summit, record_number="A-1").exists()


def test_search_finds_patients_by_name_and_record_number(world, as_user):
    client = as_user(world.alice)
    assert "Garcia" in client.get("/patients/?q=garc").content.decode()
    assert "Garcia" not in client.get("/patients/?q=zzz").content.decode()
    record = world.harbor_patient.record_number
    assert "Garcia" in client.get(f"/patients/?q={record}").content.decode()


def _found(world, query: str) -> list[str]:  # noqa: ANN001
    from palpate.patients.access import patients_for
    from palpate.patients.search import search

    actor = Actor.of(Membership.objects.get(clinic=world.harbor, user=world.alice))
    return sorted(p.family_name for p in search(patients_for(actor), query))


def test_every_word_must_appear_in_a_name_the_record_number_the_phone_or_the_email(world):
    from palpate.patients import services

    actor = Actor.of(Membership.objects.get(clinic=world.harbor, user=world.alice))
    services.do_create_patient(actor, Patient(given_name="Émile", family_name="Zola", date_of_birth="1960-02-03",
                                              sex="male", phone="555-0142", email="emile.z@example.org"))
    assert _found(world, "mar gar") == _found(world, "GARCIA maria") == ["Garcia"]
    assert _found(world, "maria zola") == []  # every word, not any
    assert _found(world, "0142") == _found(world, "emile.z@") == ["Zola"]
    assert _found(world, "ÉMI") == _found(world, "émile") == ["Zola"]  # case-insensitive beyond ASCII
    assert _found(world, "ar") == ["Garcia"]  # too short for the index: read, with the same result
    assert _found(world, "") == ["Garcia", "Zola"]


def test_the_search_index_follows_a_renamed_patient_and_stays_in_its_clinic(world):
    patient = world.harbor_patient
    patient.family_name = "Okafor"
    patient.save()
    assert _found(world, "okaf") == ["Okafor"] and _found(world, "garc") == []
    assert _found(world, "rossi") == []  # Summit's patient, another clinic


def test_the_api_searches_the_same_way_as_the_patient_list(world, as_user):
    client = as_user(world.alice)
    names = [p["family_name"] for p in client.get("/api/patients?q=mar+gar").json()["items"]]
    assert names == ["Garcia"]


def test_htmx_search_returns_only_the_results_fragment(world, as_user):
    response = as_user(world.alice).get("/patients/?q=garc", HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="results">') and "<html" not in body and "Garcia" in body


def test_opening_a_chart_is_audited_as_a_read(world, as_user):
    as_user(world.bob).get(f"/patients/{world.harbor_patient.pk}/")
    event = AuditEvent.objects.filter(action="patient.view").latest("seq")
    assert event.actor == world.bob and event.patient_id == world.harbor_patient.pk


def test_editing_a_patient_audits_old_and_new_values(world, as_user):
    patient = world.harbor_patient
    data = {**VALID, "given_name": patient.given_name, "family_name": patient.family_name, "record_number": patient.record_number,
            "phone": "555-999-0000"}
    as_user(world.alice).post(f"/patients/{patient.pk}/edit/", data)
    event = AuditEvent.objects.filter(action="patient.update").latest("seq")
    assert event.old["phone"] == "" and event.new["phone"] == "555-999-0000"
    assert "given_name" not in event.new, "only changed fields are recorded"


EPISODE = {"condition": "tendinopathy", "body_region": "elbow", "side": "left", "diagnosis": "Lateral epicondylitis",
           "icd10_code": "m77.12", "onset_date": "2026-09-01", "referral_source": "Dr. Park", "payer": "medicare",
           "payer_name": ""}


def test_it_opens_an_episode_of_care_and_normalises_the_icd10_code(world, as_user):
    patient = world.harbor_patient
    response = as_user(world.alice).post(f"/patients/{patient.pk}/episodes/new/", EPISODE)
    assert response.status_code == 302
    episode = Episode.objects.get(patient=patient, condition="tendinopathy")
    assert episode.icd10_code == "M77.12" and episode.clinic == world.harbor and episode.opened_on == dt.date.today()
    assert AuditEvent.objects.filter(action="episode.create", patient_id=patient.pk).exists()


def test_an_episode_on_a_paired_region_needs_a_side_and_a_valid_icd10_code(world, as_user):
    response = as_user(world.alice).post(
        f"/patients/{world.harbor_patient.pk}/episodes/new/", {**EPISODE, "side": "", "icd10_code": "back pain"}
    )
    body = response.content.decode()
    assert "is paired: choose left or right" in body and "Enter an ICD-10-CM code" in body
    assert 'value="Lateral epicondylitis"' in body


def test_the_api_creates_a_patient_and_reports_field_errors_as_422(world, as_user):
    client = as_user(world.alice)
    ok = client.post("/api/patients", {**VALID, "record_number": ""}, content_type="application/json")
    assert ok.status_code == 201 and ok.json()["family_name"] == "Okafor"
    bad = client.post("/api/patients", {**VALID, "date_of_birth": "2999-01-01"}, content_type="application/json")
    assert bad.status_code == 422
    assert "future" in str(bad.json())


def test_the_api_refuses_writes_from_the_auditor_with_403(world, as_user):
    response = as_user(world.aubrey).post("/api/patients", VALID, content_type="application/json")
    assert response.status_code == 403


def test_the_api_refuses_impossible_paging_with_422_not_a_crash(world, as_user):
    client = as_user(world.alice)
    for query in ("limit=99999999999999999999", "offset=99999999999999999999", "limit=0", "offset=-1"):
        assert client.get(f"/api/patients?{query}").status_code == 422, query
    assert client.get("/api/patients?limit=100&offset=0").status_code == 200


def test_listing_and_searching_patients_is_audited_with_the_ids_shown(world, as_user):
    as_user(world.bob).get("/patients/?q=garc")
    event = AuditEvent.objects.filter(action="patient.list").latest("seq")
    assert event.actor == world.bob and event.patient_id is None
    assert event.new == {"query": "garc", "page": 1, "shown": [world.harbor_patient.pk]}


def test_front_desk_sees_episodes_but_not_screen_results_visits_or_referrals(clinical_world, as_user):
    from palpate.evaluations.models import Evaluation

    cw = clinical_world
    Evaluation.objects.filter(pk=cw.evaluation.pk).update(screen_result={"session": "hold"}, suggested_code="97163")
    body = as_user(cw.world.fran).get(f"/patients/{cw.world.harbor_patient.pk}/").content.decode()
    assert "Low back pain, unspecified" in body
    assert "Evaluations are shown to clinical staff" in body and "Visit notes are shown to clinical staff" in body
    assert "97163" not in body and "red flag spine" not in body.lower().replace("_", " ")
    assert "Hold" not in body
