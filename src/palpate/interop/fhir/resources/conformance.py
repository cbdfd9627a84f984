"""StructureDefinition: the extensions Palpate defines, published at their canonical URLs' ids.

The same definitions are kept in the repository (docs/fhir/StructureDefinition-*.json; a test keeps
them equal to what the server serves), so a receiving system can load them without asking us.
"""

from __future__ import annotations

from typing import Any

from palpate.clinics.roles import PATIENT_VIEW
from palpate.interop.fhir.codes import extension_url
from palpate.interop.fhir.context import Context
from palpate.interop.fhir.errors import not_found
from palpate.interop.fhir.registry import Page, Param, Resource, ResourceType, Source, register
from palpate.interop.fhir.resources.base import id_param
from palpate.interop.fhir.search import Query

PUBLISHED = "2026-12-01"


def extension_definition(ext_id: str, name: str, title: str, description: str, contexts: list[str],
                         value_type: str) -> Resource:
    url = extension_url(ext_id)
    return {
        "resourceType": "StructureDefinition",
        "id": ext_id,
        "url": url,
        "version": "1",
        "name": name,
        "title": title,
        "status": "active",
        "date": PUBLISHED,
        "publisher": "Palpate",
        "description": description,
        "fhirVersion": "4.0.1",
        "kind": "complex-type",
        "abstract": False,
        "context": [{"type": "element", "expression": expression} for expression in contexts],
        "type": "Extension",
        "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Extension",
        "derivation": "constraint",
        "differential": {"element": [
            {"id": "Extension", "path": "Extension", "short": title, "definition": description, "min": 0, "max": "1"},
            {"id": "Extension.extension", "path": "Extension.extension", "max": "0"},
            {"id": "Extension.url", "path": "Extension.url", "fixedUri": url},
            {"id": "Extension.value[x]", "path": "Extension.value[x]", "min": 1, "type": [{"code": value_type}]},
        ]},
    }


DEFINITIONS: dict[str, Resource] = {d["id"]: d for d in (
    extension_definition(
        "treatment-minutes", "TreatmentMinutes", "Treatment minutes",
        "How many minutes the technique (or complementary therapy) was applied at this visit, as documented by the "
        "therapist; billing units are counted from these minutes.", ["Procedure"], "Duration"),
    extension_definition(
        "treatment-pressure", "TreatmentPressure", "Treatment pressure",
        "The pressure grade of a soft-tissue technique: light (skin and superficial fascia), moderate (muscle) or "
        "deep (deep layers, within tolerance); codes from https://palpate.org/fhir/CodeSystem/pressure.",
        ["Procedure"], "Coding"),
    extension_definition(
        "laterality", "BodySiteLaterality", "Body site laterality",
        "The side of a paired body site: SNOMED CT 7771000 (left) or 24028007 (right) qualifier values.",
        ["Condition.bodySite", "Procedure.bodySite", "Observation.bodySite"], "Coding"),
    extension_definition(
        "episode-payer", "EpisodePayer", "Payer category of the episode",
        "Who pays for the episode of care: medicare, medicaid, commercial, workers_comp, auto or self_pay "
        "(https://palpate.org/fhir/CodeSystem/payer). Required on a Condition created through the API, because "
        "every episode of care in Palpate names its payer.", ["EpisodeOfCare", "Condition"], "Coding"),
    extension_definition(
        "next-free-slot", "NextFreeSlot", "Next free slot",
        "On the issue of an OperationOutcome that refuses an Appointment (a time that cannot be booked): the next "
        "free time with the same therapist (and room) and the same length, found by Palpate's calendar.",
        ["OperationOutcome.issue"], "Period"),
)}


@register
class StructureDefinitionType(ResourceType):
    name = "StructureDefinition"
    permission = PATIENT_VIEW
    description = ("The extensions Palpate defines (treatment minutes and pressure, laterality, episode payer, "
                   "the next free slot of a refused appointment)")
    search_params = {"_id": id_param(), "url": Param("uri", "the canonical URL")}

    def sources(self) -> list[Source]:
        return []

    def read_many(self, ctx: Context, ids: Any) -> list[Resource]:
        self.check_read(ctx)
        return [DEFINITIONS[i] for i in dict.fromkeys(ids) if i in DEFINITIONS]

    def read(self, ctx: Context, resource_id: str) -> Resource:
        found = self.read_many(ctx, [resource_id])
        if not found:
            raise not_found("StructureDefinition", resource_id)
        return found[0]

    def search(self, ctx: Context, query: Query) -> Page:
        self.check_read(ctx)
        found = list(DEFINITIONS.values())
        for tokens in query.values("_id"):
            found = [d for d in found if any(t.code == d["id"] for t in tokens)]
        for url in query.values("url"):
            found = [d for d in found if d["url"] == url]
        end = query.offset + query.count
        return Page(found[query.offset:end], len(found) > end, len(found))
