"""Every resource the FHIR API serves, over the demo clinics' real history (signed evaluations, plans,
visits, addenda, questionnaires, referrals, all written through the services), is valid FHIR R4 for
fhir.resources' models and for Medplum's validator (tests/interop/validation.py), and says what the
issue asks: CPT codes, techniques, body sites with laterality, minutes and pressure, LOINC only where
verified, signatures as Provenance, signed PDFs behind DocumentReference."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import transaction
from django.test import override_settings

from palpate.demo.seed import seed_demo
from palpate.interop.fhir.registry import REGISTRY
from tests.interop.validation import check_with_models, medplum_issues

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):  # noqa: ANN001, ANN201
    """The seeded demo (rolled back when the module is done) and an owner's read token per clinic."""
    from palpate.clinics.actor import Actor
    from palpate.clinics.models import Membership
    from palpate.interop import services

    with django_db_blocker.unblock(), override_settings(
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        with transaction.atomic():
            seed_demo(dt.date.today())
            tokens = {}
            for slug in ("harbor", "summit"):
                owner = Membership.objects.get(clinic__slug=slug, role="owner")
                new = services.check_create_token(Actor.of(owner), owner.clinic, owner, "read", 30, "validation")
                tokens[slug] = services.do_create_token(Actor.of(owner), new)[1]
            yield tokens
            transaction.set_rollback(True)


def get(client, token: str, path: str, **params):  # noqa: ANN001, ANN201
    response = client.get(f"/fhir/R4/{path}", params, HTTP_AUTHORIZATION=f"Bearer {token}",
                          HTTP_ACCEPT="application/fhir+json")
    assert response.status_code == 200, (path, response.content[:500])
    return json.loads(response.content)


def every_page(client, token: str, type_name: str) -> list[dict]:  # noqa: ANN001
    """Every resource of a type, following the Bundle's next links."""
    resources, path, params = [], type_name, {"_count": "200"}
    while True:
        bundle = get(client, token, path, **params)
        check_with_models(bundle)
        resources += [e["resource"] for e in bundle.get("entry", [])]
        following = [link["url"] for link in bundle["link"] if link["relation"] == "next"]
        if not following:
            return resources
        path, _, query = following[0].partition("/fhir/R4/")[2].partition("?")
        params = dict(pair.split("=", 1) for pair in query.split("&"))


@pytest.fixture(scope="module")
def served_resources(demo, django_db_blocker):  # noqa: ANN001, ANN201
    """What the API gives the Harbor owner: every type searched to the end, each patient's $everything,
    the CapabilityStatement and a few reads."""
    from django.test import Client

    from palpate.patients.models import Patient

    client = Client()
    token = demo["harbor"]
    out: dict[str, list[dict]] = {}
    with django_db_blocker.unblock():
        for name, resource_type in REGISTRY.items():
            if "search-type" in resource_type.interactions:
                out[name] = every_page(client, token, name)
        out["everything"] = []
        for patient in Patient.objects.filter(clinic__slug="harbor"):
            bundle = get(client, token, f"Patient/{patient.pk}/$everything")
            out["everything"].append(bundle)
        out["metadata"] = [get(client, token, "metadata")]
        document = out["DocumentReference"][0]
        out["binary"] = [get(client, token, document["content"][0]["attachment"]["url"].split("/fhir/R4/")[1])]
    return out


def test_it_serves_every_kind_of_record_of_the_demo_history(served_resources):
    counts = {name: len(found) for name, found in served_resources.items()}
    for name in ("Patient", "EpisodeOfCare", "Condition", "Encounter", "Procedure", "Observation",
                 "QuestionnaireResponse", "CarePlan", "Goal", "ServiceRequest", "DocumentReference", "Provenance",
                 "Practitioner", "PractitionerRole", "Organization", "Questionnaire", "StructureDefinition", "Group",
                 "Appointment"):
        assert counts[name] > 0, f"no {name} in the demo's answer: {counts}"


def test_every_resource_is_valid_for_fhir_resources_and_for_medplums_validator(served_resources):
    everything: dict[str, dict] = {}
    for found in served_resources.values():
        for resource in found:
            everything[json.dumps(resource, sort_keys=True)] = resource
            for entry in resource.get("entry", []):
                everything[json.dumps(entry["resource"], sort_keys=True)] = entry["resource"]
    for resource in everything.values():
        check_with_models(resource)
    assert len(everything) > 300
    assert medplum_issues(list(everything.values())) == []


def test_medplums_validator_really_rejects_what_is_wrong():
    # The validator is not a rubber stamp: a missing required element and an unknown one are caught.
    bad = [{"resourceType": "Observation", "status": "final", "subject": {"reference": "Patient/1"}},
           {"resourceType": "Patient", "gender": "female", "favouriteColour": "blue"}]
    problems = medplum_issues(bad)
    assert [name for name, _ in problems] == ["Observation/?", "Patient/?"]


def test_a_treatment_row_is_a_procedure_with_cpt_technique_site_side_minutes_and_pressure(served_resources):
    procedures = [p for p in served_resources["Procedure"] if p["id"].startswith("treatment-")]
    assert procedures
    for procedure in procedures:
        systems = {c["system"]: c["code"] for c in procedure["code"]["coding"]}
        assert systems["http://www.ama-assn.org/go/cpt"] in {"97124", "97140"}
        assert "https://palpate.org/fhir/CodeSystem/technique" in systems and procedure["code"]["text"]
        extensions = {e["url"].rsplit("/", 1)[1]: e for e in procedure["extension"]}
        assert extensions["treatment-minutes"]["valueDuration"]["code"] == "min"
        assert extensions["treatment-minutes"]["valueDuration"]["value"] > 0
        assert extensions["treatment-pressure"]["valueCoding"]["code"] in {"light", "moderate", "deep"}
        assert procedure["bodySite"][0]["coding"][-1]["system"] == "https://palpate.org/fhir/CodeSystem/body-region"
    sided = [p for p in procedures if "extension" in p["bodySite"][0]]
    assert sided, "the demo treats a paired region somewhere"
    assert {p["bodySite"][0]["extension"][0]["valueCoding"]["code"] for p in sided} <= {"7771000", "24028007"}


def test_loinc_codes_appear_only_where_the_knowledge_base_verified_them(served_resources):
    loinc = {c["code"] for o in served_resources["Observation"] for c in o["code"]["coding"]
             if c["system"] == "http://loinc.org"}
    loinc |= {c["code"] for o in served_resources["Observation"] for comp in o.get("component", [])
              for c in comp["code"]["coding"] if c["system"] == "http://loinc.org"}
    assert "72514-3" in loinc  # NPRS, verified
    assert loinc <= {"72514-3", "8310-5", "85354-9", "8480-6", "8462-4"}
    assert "97908-8" not in loinc and "82237-9" not in loinc  # ODI and NDI: unverified, not exported
    scores = [o for o in served_resources["Observation"] if o["id"].startswith("outcome-")]
    assert scores and all(o.get("valueQuantity") or o.get("dataAbsentReason") for o in scores)


def test_conditions_carry_icd10cm_and_episodes_their_payer(served_resources):
    for condition in served_resources["Condition"]:
        assert any(c["system"] == "http://hl7.org/fhir/sid/icd-10-cm" for c in condition["code"]["coding"])
    assert all(e["extension"][0]["url"].endswith("/episode-payer") for e in served_resources["EpisodeOfCare"])


def test_every_signature_is_a_provenance_and_every_signed_document_a_downloadable_pdf(served_resources, demo, client):
    provenances = served_resources["Provenance"]
    kinds = {p["id"].split("-")[0] for p in provenances}
    assert {"evaluation", "visit", "plan"} <= kinds
    assert all(p["signature"][0]["type"][0]["code"] == "1.2.840.10065.1.12.1.1" for p in provenances)
    binary = served_resources["binary"][0]
    assert binary["contentType"] == "application/pdf"
    import base64

    assert base64.b64decode(binary["data"]).startswith(b"%PDF")
    url = served_resources["DocumentReference"][0]["content"][0]["attachment"]["url"]
    pdf = client.get(url.split("testserver")[1], HTTP_AUTHORIZATION=f"Bearer {demo['harbor']}",
                     HTTP_ACCEPT="application/pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")


def test_questionnaires_carry_topic_labels_not_the_licensed_wording(served_resources):
    odi = next(q for q in served_resources["Questionnaire"] if q["id"] == "odi")
    assert odi["item"][0]["linkId"] == "1" and "topic labels" in odi["description"]
    responses = served_resources["QuestionnaireResponse"]
    assert responses and all(r["questionnaire"].startswith("https://palpate.org/fhir/Questionnaire/") for r in responses)


def test_everything_holds_only_that_patients_records(served_resources):
    for bundle in served_resources["everything"]:
        patients = {e["resource"]["id"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"}
        assert len(patients) == 1
        patient = f"Patient/{patients.pop()}"
        for entry in bundle["entry"]:
            resource = entry["resource"]
            subject = resource.get("subject") or resource.get("patient")
            if subject:
                assert subject["reference"] == patient
