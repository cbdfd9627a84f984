"""Writes other systems need: a Patient and its Condition from a referral, alone or as a transaction,
through the patients services (audited); bad bodies are 400, bodies Palpate cannot take 422."""

from __future__ import annotations

import json

import pytest

from palpate.audit.models import AuditEvent
from palpate.patients.models import Episode, Patient

pytestmark = pytest.mark.django_db

PAYER = {"url": "https://palpate.org/fhir/StructureDefinition/episode-payer",
         "valueCoding": {"system": "https://palpate.org/fhir/CodeSystem/payer", "code": "commercial"}}


def patient_body(**changes) -> dict:  # noqa: ANN003
    body = {"resourceType": "Patient", "name": [{"family": "Okafor", "given": ["Ada"]}], "gender": "female",
            "birthDate": "1981-03-04", "telecom": [{"system": "phone", "value": "555-0101"}]}
    body.update(changes)
    return body


def condition_body(subject: str, **changes) -> dict:  # noqa: ANN003
    body = {"resourceType": "Condition", "subject": {"reference": subject}, "extension": [PAYER],
            "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "M54.50"}],
                     "text": "Low back pain, unspecified"},
            "bodySite": [{"coding": [{"system": "http://snomed.info/sct", "code": "52612000"}]}],
            "onsetDateTime": "2026-10-20", "note": [{"text": "Referred by Dr. Lee, County Orthopedics"}]}
    body.update(changes)
    return body


def outcome(response) -> str:  # noqa: ANN001
    data = json.loads(response.content)
    assert data["resourceType"] == "OperationOutcome"
    return " ".join(i["diagnostics"] for i in data["issue"])


@pytest.fixture
def writer(world, make_token, fhir):  # noqa: ANN001, ANN201
    return fhir(make_token(world.fran, "write"))


def test_it_creates_a_patient_through_the_services_and_audits_it(world, writer):
    response = writer.post("Patient", patient_body())
    assert response.status_code == 201
    created = json.loads(response.content)
    patient = Patient.objects.get(pk=created["id"])
    assert (patient.clinic, patient.family_name, patient.phone) == (world.harbor, "Okafor", "555-0101")
    assert response["Location"].endswith(f"/fhir/R4/Patient/{patient.pk}")
    event = AuditEvent.objects.get(action="patient.create", patient_id=patient.pk)
    assert event.actor_id == world.fran.pk


def test_it_creates_a_condition_as_an_episode_of_an_existing_patient(world, writer):
    response = writer.post("Condition", condition_body(f"Patient/{world.harbor_patient.pk}"))
    assert response.status_code == 201, response.content
    episode = Episode.objects.get(pk=json.loads(response.content)["id"])
    assert (episode.condition, episode.body_region, episode.icd10_code, episode.payer) == (
        "low_back_pain", "lower_back", "M54.50", "commercial")
    assert episode.referral_source == "Dr. Lee, County Orthopedics"
    assert AuditEvent.objects.filter(action="episode.create", patient_id=world.harbor_patient.pk).exists()


def test_a_transaction_creates_the_patient_and_its_condition_together(world, writer):
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": "urn:uuid:7d3f5a4e-1c2b-4e9a-9f1e-2b3c4d5e6f70", "resource": patient_body(),
         "request": {"method": "POST", "url": "Patient"}},
        {"resource": condition_body("urn:uuid:7d3f5a4e-1c2b-4e9a-9f1e-2b3c4d5e6f70"),
         "request": {"method": "POST", "url": "Condition"}}]}
    response = writer.post("", bundle)
    assert response.status_code == 200, response.content
    result = json.loads(response.content)
    assert result["type"] == "transaction-response"
    assert [e["response"]["status"] for e in result["entry"]] == ["201 Created", "201 Created"]
    patient = Patient.objects.get(family_name="Okafor")
    assert patient.episodes.get().icd10_code == "M54.50"


def test_a_transaction_with_one_bad_entry_saves_nothing(world, writer):
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": "urn:uuid:1", "resource": patient_body(), "request": {"method": "POST", "url": "Patient"}},
        {"resource": condition_body("urn:uuid:1", extension=[]), "request": {"method": "POST", "url": "Condition"}}]}
    response = writer.post("", bundle)
    assert response.status_code == 422
    assert "entry 1: Say who pays" in outcome(response)
    assert not Patient.objects.filter(family_name="Okafor").exists()


@pytest.mark.parametrize("body, status, words", [
    ({"resourceType": "Patient", "birthDate": "1981-02-31"}, 400, "Not a valid FHIR R4 Patient: birthDate"),
    ({"resourceType": "Patient", "hairColour": "red"}, 400, "hairColour"),
    ({"resourceType": "Observation", "status": "final"}, 400, "resourceType must be 'Patient'"),
    (patient_body(birthDate=None), 422, "date_of_birth"),
    (patient_body(gender="robot"), 422, "sex"),
    (patient_body(birthDate="2999-01-01"), 422, "in the future"),
])
def test_an_invalid_patient_says_what_to_fix_and_nothing_is_saved(world, writer, body, status, words):
    body = {k: v for k, v in body.items() if v is not None}
    before = Patient.objects.count()
    response = writer.post("Patient", body)
    assert response.status_code == status
    assert words in outcome(response)
    assert Patient.objects.count() == before


@pytest.mark.parametrize("changes, words", [
    ({"code": {"coding": [{"system": "http://snomed.info/sct", "code": "279039007"}]}}, "needs an ICD-10-CM coding"),
    ({"bodySite": []}, "needs the body region"),
    ({"extension": []}, "Say who pays"),
    ({"onsetDateTime": None}, "onsetDateTime is required"),
    ({"code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "G56.00"}]}},
     "Say which of Palpate's conditions"),
])
def test_an_invalid_condition_says_what_to_fix(world, writer, changes, words):
    body = condition_body(f"Patient/{world.harbor_patient.pk}", **changes)
    body = {k: v for k, v in body.items() if v is not None}
    response = writer.post("Condition", body)
    assert response.status_code == 422
    assert words in outcome(response)


def test_a_condition_for_another_clinics_patient_is_refused_like_an_unknown_one(world, writer):
    response = writer.post("Condition", condition_body(f"Patient/{world.summit_patient.pk}"))
    unknown = writer.post("Condition", condition_body("Patient/999999"))
    assert response.status_code == unknown.status_code == 422
    assert outcome(response).replace(str(world.summit_patient.pk), "N") == outcome(unknown).replace("999999", "N")
    assert not Episode.objects.filter(patient=world.summit_patient).exists()


def test_a_read_token_cannot_write(world, make_token, fhir):
    reader = fhir(make_token(world.alice, "read"))
    response = reader.post("Patient", patient_body())
    assert response.status_code == 403 and "does not allow registering patients" in outcome(response)


def test_a_body_that_is_not_json_is_a_400_and_another_content_type_a_415(world, writer):
    response = writer.post("Patient", "{not json")
    assert response.status_code == 400 and "not valid JSON" in outcome(response)
    response = writer.post("Patient", "<Patient/>", content_type="application/fhir+xml")
    assert response.status_code == 415


def test_other_types_cannot_be_created(world, writer):
    response = writer.post("Observation", {"resourceType": "Observation"})
    assert response.status_code == 405
