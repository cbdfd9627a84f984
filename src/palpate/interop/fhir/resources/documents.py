"""DocumentReference (each signed visit note and plan of care as its PDF), Binary (the PDF itself),
Provenance (each signature: evaluations, visit notes, plans of care and addenda)."""

from __future__ import annotations

import base64
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from palpate.clinics.roles import CLINICAL_VIEW
from palpate.evaluations.models import Evaluation
from palpate.interop.fhir.codes import day, instant, palpate_coding, reference
from palpate.interop.fhir.context import Context
from palpate.interop.fhir.errors import not_found
from palpate.interop.fhir.registry import (
    Include,
    Param,
    Resource,
    ResourceType,
    Source,
    date_param,
    last_updated_param,
    patient_param,
    ref_ids,
    register,
)
from palpate.interop.fhir.resources.base import id_param
from palpate.interop.fhir.resources.clinical import practitioner, subject_includes
from palpate.lib.models_common import RecordStatus
from palpate.lib.pdf import render_pdf
from palpate.plans import documents as plan_documents
from palpate.plans.models import PlanOfCare
from palpate.visits import services as visit_services
from palpate.visits.models import Addendum, Visit

DOCUMENTS = {"visit-note": "Visit note", "plan-of-care": "Plan of care"}


def _signed_visits(ctx: Context) -> QuerySet[Any]:
    return Visit.objects.filter(clinic_id=ctx.clinic_id, status=RecordStatus.SIGNED).select_related(
        "therapist", "signed_by")


def _signed_plans(ctx: Context) -> QuerySet[Any]:
    return PlanOfCare.objects.filter(clinic_id=ctx.clinic_id, status=RecordStatus.SIGNED).select_related(
        "created_by", "signed_by")


def document_reference(ctx: Context, row: Any, kind: str) -> Resource:
    words = DOCUMENTS[kind]
    when = row.visit_date if kind == "visit-note" else row.start_date
    author = row.therapist if kind == "visit-note" else row.created_by
    resource: Resource = {
        "resourceType": "DocumentReference",
        "id": f"{kind}-{row.pk}",
        "meta": {"lastUpdated": instant(row.updated_at)},
        "status": "current",
        "docStatus": "final",
        "type": {"coding": [palpate_coding("document-type", kind, words)], "text": words},
        "subject": reference("Patient", row.patient_id),
        "date": instant(row.signed_at),
        "author": [practitioner(author)],
        "custodian": reference("Organization", ctx.clinic_id, ctx.clinic.name),
        "description": f"{words} of {when}, signed",
        "content": [{"attachment": {"contentType": "application/pdf", "url": ctx.url(f"Binary/{kind}-{row.pk}"),
                                    "title": f"{words} {when}", "creation": instant(row.signed_at)}}],
        "context": {"period": {"start": day(when)}},
    }
    if row.signed_by_id:
        resource["authenticator"] = practitioner(row.signed_by)
    if kind == "visit-note":
        resource["context"]["encounter"] = [reference("Encounter", f"visit-{row.pk}")]
    else:
        resource["context"]["related"] = [reference("CarePlan", row.pk)]
    return resource


@register
class DocumentReferenceType(ResourceType):
    name = "DocumentReference"
    permission = CLINICAL_VIEW
    description = "Each signed visit note and plan of care, as a PDF (content.attachment.url is a Binary)"
    patient_compartment = True
    search_params = {
        "_id": id_param(),
        "_lastUpdated": last_updated_param(),
        "patient": patient_param(),
        "subject": patient_param(),
        "date": date_param("when it was signed"),
        "status": Param("token", "current (every signed document is)", db=lambda qs, tokens, source: qs if any(
            t.code in (None, "current") for t in tokens) else qs.none()),
    }
    includes = subject_includes("DocumentReference")

    def sources(self) -> list[Source]:
        return [
            Source("visit-note", _signed_visits, lambda ctx, row: [document_reference(ctx, row, "visit-note")],
                   date="signed_at", order=("-signed_at", "-pk"), rank=1),
            Source("plan-of-care", _signed_plans, lambda ctx, row: [document_reference(ctx, row, "plan-of-care")],
                   date="signed_at", order=("-signed_at", "-pk"), rank=0),
        ]


# -- Binary: the signed PDF ------------------------------------------------------------------------------


def render_document(ctx: Context, kind: str, row: Any) -> bytes:
    """The signed document's PDF, from the same templates and context as the pages that print it
    (visits.views._note_pdf and plans.views._plan_pdf)."""
    if kind == "visit-note":
        treatments, complementary = visit_services.stored_rows(row)
        return render_pdf("visits/note_pdf.html", {
            "patient": row.patient, "visit": row, "episode": row.episode, "treatments": treatments,
            "complementary": complementary, "addenda": list(row.addenda.select_related("signed_by")),
            "billing": row.billing or {}, "screen": row.screen_result or {}, "clinic": ctx.clinic, "rom": row.rom or [],
        })
    return render_pdf("plans/plan_pdf.html", {
        "patient": row.patient, "plan": row, "episode": row.episode, "printed_on": timezone.localdate(),
        **plan_documents.plan_context(row)})


@register
class BinaryType(ResourceType):
    name = "Binary"
    permission = CLINICAL_VIEW
    description = "The PDF of a signed document (Binary/visit-note-N, Binary/plan-of-care-N): raw PDF with Accept: " \
                  "application/pdf, a Binary resource (base64) otherwise"
    interactions = ("read",)

    def sources(self) -> list[Source]:
        return []

    def document(self, ctx: Context, resource_id: str) -> tuple[bytes, Any]:
        self.check_read(ctx)
        kind, _, pk = resource_id.rpartition("-")
        querysets = {"visit-note": _signed_visits, "plan-of-care": _signed_plans}
        if kind not in querysets or not pk.isdigit() or len(pk) > 18:
            raise not_found("Binary", resource_id)
        row = querysets[kind](ctx).select_related("patient", "episode").filter(pk=int(pk)).first()
        if row is None:
            raise not_found("Binary", resource_id)
        ctx.saw(row.patient_id)
        return render_document(ctx, kind, row), row

    def read(self, ctx: Context, resource_id: str) -> Resource:
        pdf, row = self.document(ctx, resource_id)
        return {"resourceType": "Binary", "id": resource_id, "meta": {"lastUpdated": instant(row.updated_at)},
                "contentType": "application/pdf", "data": base64.b64encode(pdf).decode()}

    def read_many(self, ctx: Context, ids: Any) -> list[Resource]:
        return [self.read(ctx, i) for i in ids]


# -- Provenance: who signed what, when -----------------------------------------------------------------------

AGENT_TYPE = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
SIGNATURE_TYPE = "urn:iso-astm:E1762-95:2013"


def provenance(prov_id: str, targets: list[dict[str, Any]], signer: Any, signed_at: Any, what: str) -> Resource:
    who = practitioner(signer)
    return {
        "resourceType": "Provenance",
        "id": prov_id,
        "meta": {"lastUpdated": instant(signed_at)},
        "target": targets,
        "recorded": instant(signed_at),
        "activity": {"coding": [palpate_coding("provenance-activity", "sign", "Signed")], "text": f"{what} signed"},
        "agent": [{"type": {"coding": [{"system": AGENT_TYPE, "code": "author", "display": "Author"}]}, "who": who}],
        "signature": [{"type": [{"system": SIGNATURE_TYPE, "code": "1.2.840.10065.1.12.1.1",
                                 "display": "Author's Signature"}], "when": instant(signed_at), "who": who}],
    }


def record_provenance(ctx: Context, row: Any, kind: str) -> list[Resource]:
    targets = {"evaluation": [reference("Encounter", f"evaluation-{row.pk}")],
               "visit": [reference("Encounter", f"visit-{row.pk}"), reference("DocumentReference", f"visit-note-{row.pk}")],
               "plan": [reference("CarePlan", row.pk), reference("DocumentReference", f"plan-of-care-{row.pk}")]}[kind]
    words = {"evaluation": "Evaluation", "visit": "Visit note", "plan": "Plan of care"}[kind]
    return [provenance(f"{kind}-{row.pk}", targets, row.signed_by, row.signed_at, words)]


def addendum_provenance(ctx: Context, row: Addendum) -> list[Resource]:
    return [provenance(f"addendum-{row.pk}", [reference("Encounter", f"visit-{row.visit_id}"),
                                              reference("DocumentReference", f"visit-note-{row.visit_id}")],
                       row.signed_by, row.signed_at, "Addendum to the visit note")]


def _signed(model: Any, related: tuple[str, ...] = ("signed_by",)) -> Any:
    return lambda ctx: model.objects.filter(clinic_id=ctx.clinic_id, status=RecordStatus.SIGNED).select_related(*related)


@register
class ProvenanceType(ResourceType):
    name = "Provenance"
    permission = CLINICAL_VIEW
    description = "Each signature: evaluations, visit notes, plans of care and addenda (who signed, when)"
    patient_compartment = True
    search_params = {
        "_id": id_param(),
        "_lastUpdated": last_updated_param(),
        "patient": patient_param(),
        "recorded": date_param("when it was signed"),
    }
    includes = {"Provenance:target": Include("*", lambda r: ref_ids(r.get("target")))}

    def sources(self) -> list[Source]:
        return [
            Source("evaluation", _signed(Evaluation), lambda ctx, row: record_provenance(ctx, row, "evaluation"),
                   date="signed_at", updated="signed_at", order=("-signed_at", "-pk"), rank=0),
            Source("visit", _signed(Visit), lambda ctx, row: record_provenance(ctx, row, "visit"),
                   date="signed_at", updated="signed_at", order=("-signed_at", "-pk"), rank=1),
            Source("plan", _signed(PlanOfCare), lambda ctx, row: record_provenance(ctx, row, "plan"),
                   date="signed_at", updated="signed_at", order=("-signed_at", "-pk"), rank=2),
            Source("addendum", lambda ctx: Addendum.objects.filter(clinic_id=ctx.clinic_id).select_related(
                "signed_by", "visit"), addendum_provenance, patient="visit__patient_id", date="signed_at",
                updated="signed_at", order=("-signed_at", "-pk"), rank=3),
        ]

