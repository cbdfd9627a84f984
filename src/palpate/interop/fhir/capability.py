"""The CapabilityStatement at /fhir/R4/metadata, built from the registry: it lists exactly what is served."""

from __future__ import annotations

from typing import Any

from palpate.interop.fhir.codes import CANONICAL
from palpate.interop.fhir.registry import REGISTRY
from palpate.interop.fhir.search import DEFAULT_COUNT, MAX_COUNT

RELEASED = "2026-12-01"


def capability_statement(base: str, software_version: str) -> dict[str, Any]:
    resources = []
    for name, resource_type in REGISTRY.items():
        entry: dict[str, Any] = {
            "type": name,
            "documentation": resource_type.description,
            "interaction": [{"code": code} for code in resource_type.interactions],
        }
        if "search-type" in resource_type.interactions:
            entry["searchParam"] = [{"name": param_name, "type": param.type, "documentation": param.documentation}
                                    for param_name, param in resource_type.search_params.items()]
            if resource_type.includes:
                entry["searchInclude"] = sorted(resource_type.includes)
        if name == "Patient":
            entry["operation"] = [
                {"name": "everything", "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything",
                 "documentation": "Every resource of the patient's record the caller may read, in one Bundle; "
                                  "_type and _since narrow it"},
                {"name": "export", "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export",
                 "documentation": "Bulk export of every patient of the caller's clinic (asynchronous, NDJSON)"}]
        if name == "Group":
            entry["operation"] = [{"name": "export",
                                   "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export",
                                   "documentation": "Bulk export of the group's patients (asynchronous, NDJSON)"}]
        resources.append(entry)
    return {
        "resourceType": "CapabilityStatement",
        "id": "palpate",
        "url": f"{CANONICAL}/CapabilityStatement/palpate",
        "version": software_version,
        "name": "PalpateFhirServer",
        "title": "Palpate FHIR R4 API",
        "status": "active",
        "date": RELEASED,
        "publisher": "Palpate",
        "description": "The clinic's record as FHIR R4: patients, episodes and diagnoses, evaluations and visits, "
                       "each soft-tissue treatment row, measurements and outcome scores, plans of care, referrals, "
                       "signed documents and signatures, and the schedule (appointments, booked and changed through "
                       "the same checks as the calendar). JSON only.",
        "kind": "instance",
        "software": {"name": "Palpate", "version": software_version},
        "implementation": {"description": "This Palpate server", "url": base},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "rest": [{
            "mode": "server",
            "documentation": f"Search pages hold {DEFAULT_COUNT} entries unless _count (1-{MAX_COUNT}) says otherwise; "
                             "page with the Bundle's next link. Unknown search parameters are an error unless the "
                             "request says 'Prefer: handling=lenient'. Every read is recorded in the clinic's audit "
                             "trail.",
            "security": {
                "cors": False,
                "service": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                                         "code": "OAuth", "display": "OAuth"}],
                             "text": "Bearer tokens made by a clinic owner (Authorization: Bearer pal_...)"}],
                "description": "Send 'Authorization: Bearer <token>'. A token acts for one member of one clinic and "
                               "reads nothing of another clinic; a read token cannot write.",
            },
            "resource": resources,
            "interaction": [{"code": "transaction", "documentation": "A Bundle of Patient and Condition creates, "
                                                                      "all or nothing"}],
            "operation": [{"name": "export", "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export",
                           "documentation": "Bulk export of the caller's clinic (asynchronous, NDJSON)"}],
        }],
    }
