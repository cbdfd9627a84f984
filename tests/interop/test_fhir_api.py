"""The FHIR R4 API: reads, searches, paging, includes, $everything, the CapabilityStatement, the
one-clinic rule, bad input as OperationOutcomes, and one audit row per request."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone

from palpate.audit.models import AuditEvent
from palpate.interop.fhir.registry import REGISTRY

pytestmark = pytest.mark.django_db


def body(response) -> dict:  # noqa: ANN001
    return json.loads(response.content)


def outcome_text(response) -> str:  # noqa: ANN001
    data = body(response)
    assert data["resourceType"] == "OperationOutcome", data
    return " ".join(issue["diagnostics"] for issue in data["issue"])


@pytest.fixture
def alice_api(clinical_world, make_token, fhir):  # noqa: ANN001, ANN201
    return fhir(make_token(clinical_world.world.alice))


def ids_of(clinical_world) -> dict[str, str]:  # noqa: ANN001
    """One id of every readable type for the clinical world's Harbor records."""
    cw = clinical_world
    w = cw.world
    return {
        "Patient": str(w.harbor_patient.pk), "Practitioner": str(w.alice.pk), "Organization": str(w.harbor.pk),
        "PractitionerRole": str(w.alice.memberships.get().pk), "Group": "all", "EpisodeOfCare": str(w.harbor_episode.pk),
        "Condition": str(w.harbor_episode.pk), "Encounter": f"visit-{cw.visit.pk}",
        "Procedure": f"treatment-{cw.visit.treatments.get().pk}", "Observation": f"visit-{cw.visit.pk}-nprs-before",
        "Questionnaire": "nprs", "QuestionnaireResponse": str(cw.measurement.pk), "CarePlan": str(cw.plan.pk),
        "ServiceRequest": str(cw.referral.pk), "StructureDefinition": "treatment-minutes",
    }


def test_it_serves_json_as_application_fhir_json(alice_api):
    response = alice_api.get("metadata")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+json; charset=utf-8"


def test_the_capability_statement_lists_exactly_what_is_served_and_each_entry_works(clinical_world, alice_api):
    statement = body(alice_api.get("metadata"))
    listed = {r["type"]: r for r in statement["rest"][0]["resource"]}
    assert set(listed) == set(REGISTRY)
    ids = ids_of(clinical_world)
    for name, entry in listed.items():
        interactions = {i["code"] for i in entry["interaction"]}
        if "read" in interactions and name in ids:
            assert alice_api.get(f"{name}/{ids[name]}").status_code == 200, name
        if "search-type" in interactions:
            for param in entry["searchParam"]:
                value = {"date": "ge2000-01-01", "reference": f"Patient/{ids['Patient']}", "token": "x",
                         "string": "a", "uri": "https://palpate.org/fhir/x"}[param["type"]]
                if param["name"] == "_id":
                    value = ids.get(name, "1")
                if param["type"] == "reference":
                    target = REGISTRY[name].search_params[param["name"]].target
                    value = f"{target}/{ids.get(target, 'visit-1')}"
                response = alice_api.get(name, **{param["name"]: value})
                assert response.status_code == 200, (name, param["name"], response.content[:300])
            for include in entry.get("searchInclude", []):
                assert alice_api.get(name, _include=include).status_code == 200, include
    operations = {o["name"] for o in listed["Patient"]["operation"]}
    assert operations == {"everything", "export"}


@pytest.mark.parametrize("type_name", ["Patient", "EpisodeOfCare", "Condition", "Encounter", "Procedure", "Observation",
                                       "QuestionnaireResponse", "CarePlan", "ServiceRequest", "PractitionerRole",
                                       "Practitioner", "Organization"])
def test_another_clinics_record_is_a_404_for_every_type(clinical_world, make_token, fhir, type_name):
    ids = ids_of(clinical_world)
    charlie = fhir(make_token(clinical_world.world.charlie))
    response = charlie.get(f"{type_name}/{ids[type_name]}")
    assert response.status_code == 404
    assert "not a resource of your clinic" in outcome_text(response)
    listed = body(charlie.get(type_name, _id=ids[type_name]))
    assert listed.get("entry", []) == []


def test_another_clinics_patient_everything_is_a_404_and_its_records_never_appear(clinical_world, make_token, fhir):
    w = clinical_world.world
    charlie = fhir(make_token(w.charlie))
    assert charlie.get(f"Patient/{w.harbor_patient.pk}/$everything").status_code == 404
    found = body(charlie.get("Observation", patient=f"Patient/{w.harbor_patient.pk}"))
    assert found.get("entry", []) == []
    patients = body(charlie.get("Patient"))
    assert [e["resource"]["name"][0]["family"] for e in patients["entry"]] == ["Rossi"]


def test_an_unknown_resource_type_is_a_404_that_lists_what_is_served(alice_api):
    response = alice_api.get("MedicationRequest")
    assert response.status_code == 404
    assert "does not serve 'MedicationRequest'" in outcome_text(response) and "Observation" in outcome_text(response)


@pytest.mark.parametrize("params, words", [
    ({"date": "last tuesday"}, "is not a date"),
    ({"date": "2026-02-30"}, "not a real date"),
    ({"_count": "0"}, "out of range"),
    ({"_count": "many"}, "not a whole number"),
    ({"patient": "Practitioner/3"}, "refers to Patient"),
    ({"patient": "1;drop"}, "is not a resource id"),
    ({"colour": "blue"}, "has no search parameter 'colour'"),
    ({"_include": "Observation:device"}, "_include=Observation:device is not supported"),
])
def test_a_malformed_search_is_a_400_that_says_what_to_fix(alice_api, params, words):
    response = alice_api.get("Observation", **params)
    assert response.status_code == 400
    assert words in outcome_text(response)


def test_unknown_parameters_are_ignored_when_the_client_asks_for_lenient_handling(alice_api):
    response = alice_api.get("Observation", headers={"Prefer": "handling=lenient"}, colour="blue")
    assert response.status_code == 200


def test_a_bad_id_a_wrong_method_and_xml_are_refused_with_an_operation_outcome(alice_api, clinical_world):
    assert alice_api.get("Patient/not%20an%20id").status_code in (400, 404)
    response = alice_api.delete(f"Patient/{clinical_world.world.harbor_patient.pk}")
    assert response.status_code == 405 and "DELETE is not supported" in outcome_text(response)
    response = alice_api.get("Patient", _format="xml")
    assert response.status_code == 406 and "JSON only" in outcome_text(response)


def test_search_pages_follow_next_links_and_count_the_matches(clinical_world, alice_api):
    from palpate.visits.models import TreatmentRow

    w = clinical_world.world
    for minutes in range(1, 12):
        TreatmentRow.objects.create(clinic=w.harbor, visit=clinical_world.visit, technique="petrissage",
                                    region="lower_back", pressure="moderate", minutes=minutes, position=minutes)
    first = body(alice_api.get("Procedure", patient=w.harbor_patient.pk, _count=5))
    assert first["total"] == 12 and len(first["entry"]) == 5
    seen = [e["resource"]["id"] for e in first["entry"]]
    following = next(link["url"] for link in first["link"] if link["relation"] == "next")
    while following:
        page = body(alice_api.get(following.split("/fhir/R4/")[1].split("?")[0],
                                  **dict(p.split("=") for p in following.split("?")[1].split("&"))))
        seen += [e["resource"]["id"] for e in page["entry"]]
        following = next((link["url"] for link in page["link"] if link["relation"] == "next"), None)
    assert len(seen) == len(set(seen)) == 12


def test_search_filters_by_patient_date_code_status_and_last_updated(clinical_world, alice_api):
    w = clinical_world.world
    patient = f"Patient/{w.harbor_patient.pk}"

    def ids(**params) -> list[str]:  # noqa: ANN003
        return sorted(e["resource"]["id"] for e in body(alice_api.get("Observation", **params)).get("entry", []))

    visit, evaluation, measurement = clinical_world.visit.pk, clinical_world.evaluation.pk, clinical_world.measurement.pk
    everything = ids(patient=patient)
    assert everything == sorted([f"visit-{visit}-nprs-before", f"evaluation-{evaluation}-nprs", f"outcome-{measurement}"])
    assert ids(patient=patient, code="http://loinc.org|72514-3") == everything  # NPRS everywhere
    assert ids(patient=patient, code="https://palpate.org/fhir/CodeSystem/observation|nprs-before") == [
        f"visit-{visit}-nprs-before"]
    assert ids(patient=patient, date="2026-11-02") == everything
    assert ids(patient=patient, date="lt2026-11-01") == []
    assert ids(patient=patient, status="preliminary") == sorted([f"visit-{visit}-nprs-before",
                                                                 f"evaluation-{evaluation}-nprs"])
    assert ids(patient=patient, status="final") == [f"outcome-{measurement}"]
    later = (timezone.now() + dt.timedelta(days=1)).strftime("%Y-%m-%d")
    assert ids(patient=patient, _lastUpdated=f"gt{later}") == []
    assert ids(patient=patient, encounter=f"Encounter/visit-{visit}") == [f"visit-{visit}-nprs-before"]


def test_include_brings_the_patient_and_the_encounter_in_the_same_bundle(clinical_world, alice_api):
    w = clinical_world.world
    bundle = body(alice_api.get("Procedure", patient=w.harbor_patient.pk, _include=["Procedure:patient",
                                                                                    "Procedure:encounter"]))
    modes = {(e["resource"]["resourceType"], e["search"]["mode"]) for e in bundle["entry"]}
    assert modes == {("Procedure", "match"), ("Patient", "include"), ("Encounter", "include")}


def test_everything_returns_the_patients_record_and_what_it_refers_to(clinical_world, alice_api):
    w = clinical_world.world
    bundle = body(alice_api.get(f"Patient/{w.harbor_patient.pk}/$everything"))
    kinds = {e["resource"]["resourceType"] for e in bundle["entry"]}
    assert {"Patient", "EpisodeOfCare", "Condition", "Encounter", "Procedure", "Observation", "QuestionnaireResponse",
            "CarePlan", "ServiceRequest", "Organization", "Practitioner", "Questionnaire"} <= kinds
    narrowed = body(alice_api.get(f"Patient/{w.harbor_patient.pk}/$everything", _type="Procedure,Encounter"))
    assert {e["resource"]["resourceType"] for e in narrowed["entry"]} == {"Procedure", "Encounter"}


def test_a_front_desk_token_reads_patients_but_not_clinical_records(clinical_world, make_token, fhir):
    w = clinical_world.world
    fran = fhir(make_token(w.fran))
    assert fran.get(f"Patient/{w.harbor_patient.pk}").status_code == 200
    response = fran.get("Observation")
    assert response.status_code == 403 and "does not allow reading Observation" in outcome_text(response)
    kinds = {e["resource"]["resourceType"] for e in body(fran.get(f"Patient/{w.harbor_patient.pk}/$everything"))["entry"]}
    assert "Observation" not in kinds and "Patient" in kinds


def test_every_fhir_read_is_audited_once_naming_the_patients_returned(clinical_world, make_token, fhir):
    w = clinical_world.world
    token = make_token(w.alice)
    api = fhir(token)
    before = AuditEvent.objects.filter(clinic=w.harbor, action__startswith="fhir.").count()
    api.get(f"Patient/{w.harbor_patient.pk}/$everything")
    api.get("Observation", patient=w.harbor_patient.pk)
    events = list(AuditEvent.objects.filter(clinic=w.harbor, action__startswith="fhir.").order_by("seq")[before:])
    assert [e.action for e in events] == ["fhir.everything", "fhir.search"]
    for event in events:
        assert event.patient_id == w.harbor_patient.pk
        assert event.new["patients"] == [w.harbor_patient.pk] and event.new["token"] == token[4:12]
        assert event.actor_id == w.alice.pk


def test_a_signed_in_member_may_read_through_the_browser_but_not_write(clinical_world, client, fhir):
    w = clinical_world.world
    client.force_login(w.alice)
    session = fhir(None)
    assert session.get(f"Patient/{w.harbor_patient.pk}").status_code == 200
    response = session.post("Patient", {"resourceType": "Patient"})
    assert response.status_code == 403 and "needs an API token" in outcome_text(response)


def test_a_missing_token_is_a_401_that_says_how_to_get_one(clinical_world, fhir):
    response = fhir(None).get("Patient")
    assert response.status_code == 401
    assert "Authorization: Bearer" in outcome_text(response)
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_search_queries_do_not_grow_with_the_number_of_records(clinical_world, alice_api, django_assert_max_num_queries):
    from palpate.visits.models import Visit

    w = clinical_world.world
    for day in range(1, 30):
        Visit.objects.create(clinic=w.harbor, patient=w.harbor_patient, episode=w.harbor_episode,
                             therapist=w.alice, visit_date=dt.date(2026, 10, day), nprs_before=5, nprs_after=3,
                             vitals={"bp_systolic": 120, "bp_diastolic": 80})
    with django_assert_max_num_queries(16):
        response = alice_api.get("Observation", patient=w.harbor_patient.pk, _count=50)
    assert len(body(response)["entry"]) == 50


def test_the_published_structure_definitions_are_the_ones_the_server_serves(alice_api):
    from pathlib import Path

    folder = Path(__file__).resolve().parents[2] / "docs" / "fhir"
    served = body(alice_api.get("StructureDefinition"))["entry"]
    assert len(served) == 5
    for entry in served:
        definition = entry["resource"]
        published = json.loads((folder / f"StructureDefinition-{definition['id']}.json").read_text())
        assert published == definition


def test_a_new_resource_type_plugs_in_with_one_class_reads_writes_and_conflicts_included(
        clinical_world, make_token, fhir):
    """How Appointment will be added after scheduling merges: one registered class; the views route
    create (POST), update (PUT) and delete (DELETE) to it, and the CapabilityStatement lists it."""
    from palpate.clinics.roles import PATIENT_VIEW
    from palpate.interop.fhir import registry
    from palpate.interop.fhir.errors import conflict

    booked: dict[str, dict] = {}

    class Slot(registry.ResourceType):
        name = "Basic"
        permission = PATIENT_VIEW
        interactions = ("read", "create", "update", "delete")

        def sources(self) -> list:
            return []

        def read_many(self, ctx, ids):  # noqa: ANN001, ANN201
            return [booked[i] for i in ids if i in booked]

        def create(self, ctx, body):  # noqa: ANN001, ANN201
            if booked:
                raise conflict("That time is already booked.")
            booked["1"] = {**body, "id": "1"}
            return booked["1"]

        def update(self, ctx, resource_id, body):  # noqa: ANN001, ANN201
            booked[resource_id] = {**body, "id": resource_id}
            return booked[resource_id]

        def delete(self, ctx, resource_id, params):  # noqa: ANN001, ANN201
            booked.pop(resource_id, None)

    registry.register(Slot)
    try:
        api = fhir(make_token(clinical_world.world.alice, "write"))
        resource = {"resourceType": "Basic", "code": {"text": "slot"}}
        assert api.post("Basic", resource).status_code == 201
        clash = api.post("Basic", resource)
        assert clash.status_code == 409 and "already booked" in outcome_text(clash)
        response = api.client.put("/fhir/R4/Basic/1", json.dumps({**resource, "code": {"text": "moved"}}),
                                  content_type="application/fhir+json", HTTP_AUTHORIZATION=f"Bearer {api.token}")
        assert response.status_code == 200 and body(response)["code"]["text"] == "moved"
        assert api.delete("Basic/1").status_code == 204 and api.get("Basic/1").status_code == 404
        listed = {r["type"]: r for r in body(api.get("metadata"))["rest"][0]["resource"]}
        assert {i["code"] for i in listed["Basic"]["interaction"]} == {"read", "create", "update", "delete"}
    finally:
        registry.REGISTRY.pop("Basic")


@pytest.mark.parametrize(("status", "fhir_status", "care_plan"), [
    ("active", "active", "active"), ("on_hold", "onhold", "on-hold"), ("discharged", "finished", "completed")])
def test_the_episode_status_maps_to_episode_of_care_and_care_plan_status(clinical_world, alice_api, status,
                                                                        fhir_status, care_plan):
    episode, plan = clinical_world.world.harbor_episode, clinical_world.plan
    episode.status = status
    episode.save()
    plan.status, plan.signed_by, plan.signed_at = "signed", clinical_world.world.alice, timezone.now()
    plan.save()
    assert body(alice_api.get(f"EpisodeOfCare/{episode.pk}"))["status"] == fhir_status
    found = body(alice_api.get("EpisodeOfCare", status=fhir_status)).get("entry", [])
    assert [e["resource"]["id"] for e in found] == [str(episode.pk)]
    assert body(alice_api.get(f"CarePlan/{plan.pk}"))["status"] == care_plan
    clinical = body(alice_api.get(f"Condition/{episode.pk}"))["clinicalStatus"]["coding"][0]["code"]
    assert clinical == ("inactive" if status == "discharged" else "active")
