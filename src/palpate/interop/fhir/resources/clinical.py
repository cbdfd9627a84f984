"""EpisodeOfCare and Condition (the episode and its diagnosis), Encounter (evaluations and visits),
Procedure (each treatment row, and each complementary therapy of a visit)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Q, QuerySet

from palpate.clinics.roles import CLINICAL_VIEW, PATIENT_VIEW
from palpate.core.kb.clinical import knowledge_base
from palpate.evaluations.models import Evaluation
from palpate.interop.fhir.codes import (
    body_site,
    cpt_coding,
    day,
    extension_url,
    instant,
    label,
    palpate_coding,
    reference,
    system,
)
from palpate.interop.fhir.context import Context
from palpate.interop.fhir.registry import (
    Include,
    Param,
    Resource,
    ResourceType,
    Source,
    codings,
    date_param,
    last_updated_param,
    patient_param,
    register,
    token_param,
)
from palpate.interop.fhir.resources.base import id_param
from palpate.lib.models_common import RecordStatus
from palpate.patients.models import Episode, EpisodeStatus, Payer
from palpate.visits.models import ComplementaryRow, TreatmentRow, Visit

V3_ACT = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
PARTICIPATION = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"


def subject_includes(type_name: str, element: str = "subject") -> dict[str, Include]:
    def refs(resource: Resource) -> list[str]:
        return [resource[element]["reference"]]

    return {f"{type_name}:patient": Include("Patient", refs), f"{type_name}:{element}": Include("Patient", refs)}


def status_param(documentation: str, mapping: dict[str, Q]) -> Param:
    """A status token applied in the database: each FHIR code maps to a filter on the row."""

    def apply(qs: QuerySet[Any], tokens: Any, source: Source) -> QuerySet[Any]:
        q = Q(pk__in=[])
        for token in tokens:
            if token.code is None:
                return qs
            if token.code in mapping:
                q |= mapping[token.code]
        return qs.filter(q)

    return Param("token", documentation + " (" + ", ".join(mapping) + ")", db=apply)


def reference_param(documentation: str, target: str, field: str,
                    to_pk: Callable[[str], int | None] = lambda i: int(i) if i.isdigit() and len(i) <= 18 else None
                    ) -> Param:
    def apply(qs: QuerySet[Any], ids: list[str], source: Source) -> QuerySet[Any]:
        return qs.filter(**{f"{field}__in": [pk for pk in map(to_pk, ids) if pk is not None]})

    return Param("reference", documentation, db=apply, target=target)


def practitioner(user: Any) -> dict[str, Any]:
    return reference("Practitioner", user.pk, user.display_name())


def signed_status(row: Any, done: str, pending: str) -> str:
    return done if row.status == RecordStatus.SIGNED else pending


# -- EpisodeOfCare and Condition -------------------------------------------------------------------------


# Palpate's episode status -> FHIR R4 EpisodeOfCare.status (http://hl7.org/fhir/R4/valueset-episode-of-care-status.html).
EPISODE_OF_CARE_STATUS = {EpisodeStatus.ACTIVE: "active", EpisodeStatus.ON_HOLD: "onhold",
                          EpisodeStatus.DISCHARGED: "finished"}


def episode_of_care(ctx: Context, episode: Episode) -> Resource:
    payer = Payer(episode.payer) if episode.payer in Payer.values else None
    resource: Resource = {
        "resourceType": "EpisodeOfCare",
        "id": str(episode.pk),
        "meta": {"lastUpdated": instant(episode.updated_at)},
        "status": EPISODE_OF_CARE_STATUS.get(episode.status, "finished"),
        "type": [{"coding": [palpate_coding("condition", episode.condition, label(episode.condition))],
                  "text": label(episode.condition)}],
        "diagnosis": [{"condition": reference("Condition", episode.pk, episode.diagnosis), "rank": 1}],
        "patient": reference("Patient", episode.patient_id),
        "managingOrganization": reference("Organization", ctx.clinic_id, ctx.clinic.name),
        "period": {"start": day(episode.opened_on)},
    }
    if episode.discharged_on:
        resource["period"]["end"] = day(episode.discharged_on)
    if payer is not None:
        coding = palpate_coding("payer", payer.value, payer.label)
        resource["extension"] = [{"url": extension_url("episode-payer"), "valueCoding": coding}]
    return resource


def condition(ctx: Context, episode: Episode) -> Resource:
    active = episode.status != EpisodeStatus.DISCHARGED  # on hold: the problem is still there
    resource: Resource = {
        "resourceType": "Condition",
        "id": str(episode.pk),
        "meta": {"lastUpdated": instant(episode.updated_at)},
        "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                       "code": "active" if active else "inactive"}]},
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-category",
                                  "code": "encounter-diagnosis", "display": "Encounter Diagnosis"}]}],
        "code": {"coding": [{"system": system("icd10cm"), "code": episode.icd10_code},
                            palpate_coding("condition", episode.condition, label(episode.condition))],
                 "text": episode.diagnosis},
        "subject": reference("Patient", episode.patient_id),
        "onsetDateTime": day(episode.onset_date),
        "recordedDate": day(episode.opened_on),
    }
    site = body_site(episode.body_region, episode.side or None)
    if site:
        resource["bodySite"] = [site]
    if not active and episode.discharged_on:
        resource["abatementDateTime"] = day(episode.discharged_on)
    if episode.referral_source:
        resource["note"] = [{"text": f"Referred by {episode.referral_source}"}]
    return resource


def _episodes(ctx: Context) -> QuerySet[Any]:
    return Episode.objects.filter(clinic_id=ctx.clinic_id)


@register
class EpisodeOfCareType(ResourceType):
    name = "EpisodeOfCare"
    permission = PATIENT_VIEW
    description = "An episode of care: one problem, from referral to discharge"
    patient_compartment = True
    search_params = {
        "_id": id_param(),
        "_lastUpdated": last_updated_param(),
        "patient": patient_param(),
        "status": status_param("the episode's status", {"active": Q(status=EpisodeStatus.ACTIVE),
                                                        "onhold": Q(status=EpisodeStatus.ON_HOLD),
                                                        "finished": Q(status=EpisodeStatus.DISCHARGED)}),
        "date": date_param("the day the episode opened"),
        "type": token_param("the condition (Palpate's condition code)", lambda r: codings(r.get("type"))),
    }
    includes = {**subject_includes("EpisodeOfCare", "patient"),
                "EpisodeOfCare:condition": Include("Condition", lambda r: [d["condition"]["reference"]
                                                                           for d in r.get("diagnosis", [])])}

    def sources(self) -> list[Source]:
        return [Source("", _episodes, episode_of_care, date="opened_on", order=("-opened_on", "-pk"))]


@register
class ConditionType(ResourceType):
    name = "Condition"
    permission = PATIENT_VIEW
    description = "The episode's diagnosis: ICD-10-CM, Palpate's condition, body site with laterality"
    patient_compartment = True
    interactions = ("read", "search-type", "create")
    search_params = {
        "_id": id_param(),
        "_lastUpdated": last_updated_param(),
        "patient": patient_param(),
        "subject": patient_param(),
        "clinical-status": status_param("active or inactive (discharged)", {
            "active": ~Q(status=EpisodeStatus.DISCHARGED), "inactive": Q(status=EpisodeStatus.DISCHARGED)}),
        "code": token_param("ICD-10-CM (http://hl7.org/fhir/sid/icd-10-cm|M54.50) or Palpate's condition code",
                            lambda r: codings(r.get("code"))),
        "body-site": token_param("SNOMED CT or Palpate's body-region code", lambda r: codings(r.get("bodySite"))),
        "onset-date": date_param("the onset date"),
    }
    includes = subject_includes("Condition")

    def sources(self) -> list[Source]:
        return [Source("", _episodes, condition, date="onset_date", order=("-opened_on", "-pk"))]

    def create(self, ctx: Context, body: Resource) -> Resource:
        from palpate.interop.fhir.writes import create_resources

        return create_resources(ctx, [("Condition", body, None)])[0]


# -- Encounter ----------------------------------------------------------------------------------------------

ENCOUNTER_STATUS = {"finished": Q(status=RecordStatus.SIGNED), "in-progress": Q(status=RecordStatus.DRAFT)}


def _encounter(ctx: Context, row: Any, kind: str, when: Any, type_label: str, cpt: str | None) -> Resource:
    resource: Resource = {
        "resourceType": "Encounter",
        "id": f"{kind}-{row.pk}",
        "meta": {"lastUpdated": instant(row.updated_at)},
        "status": signed_status(row, "finished", "in-progress"),
        "class": {"system": V3_ACT, "code": "AMB", "display": "ambulatory"},
        "type": [{"coding": [*cpt_coding(cpt), palpate_coding("encounter-type", kind, type_label)], "text": type_label}],
        "subject": reference("Patient", row.patient_id),
        "episodeOfCare": [reference("EpisodeOfCare", row.episode_id)],
        "participant": [{"type": [{"coding": [{"system": PARTICIPATION, "code": "PPRF", "display": "primary performer"}]}],
                         "individual": practitioner(row.therapist)}],
        "period": {"start": day(when), "end": day(when)},
        "reasonReference": [reference("Condition", row.episode_id)],
        "serviceProvider": reference("Organization", ctx.clinic_id, ctx.clinic.name),
    }
    return resource


def evaluation_encounter(ctx: Context, evaluation: Evaluation) -> Resource:
    return _encounter(ctx, evaluation, "evaluation", evaluation.performed_on, "Initial evaluation",
                      evaluation.suggested_code or None)


def visit_encounter(ctx: Context, visit: Visit) -> Resource:
    resource = _encounter(ctx, visit, "visit", visit.visit_date, "Treatment visit", None)
    try:
        appointment_id = visit.appointment.pk  # the scheduling app's link (a note started from an appointment)
    except ObjectDoesNotExist:
        appointment_id = None
    if appointment_id is not None:
        resource["appointment"] = [reference("Appointment", appointment_id)]
    return resource


def encounter_sources() -> list[Source]:
    return [
        Source("evaluation", lambda ctx: Evaluation.objects.filter(clinic_id=ctx.clinic_id).select_related("therapist"),
               evaluation_encounter, date="performed_on", order=("-performed_on", "-pk"), rank=0),
        Source("visit", lambda ctx: Visit.objects.filter(clinic_id=ctx.clinic_id).select_related("therapist",
                                                                                                "appointment"),
               visit_encounter, date="visit_date", order=("-visit_date", "-pk"), rank=1),
    ]


@register
class EncounterType(ResourceType):
    name = "Encounter"
    permission = CLINICAL_VIEW
    description = "Evaluations (Encounter/evaluation-N) and treatment visits (Encounter/visit-N)"
    patient_compartment = True
    search_params = {
        "_id": id_param(),
        "_lastUpdated": last_updated_param(),
        "patient": patient_param(),
        "subject": patient_param(),
        "date": date_param("the day of the evaluation or visit"),
        "status": status_param("finished (signed) or in-progress (a draft note)", ENCOUNTER_STATUS),
        "episode-of-care": reference_param("the episode of care", "EpisodeOfCare", "episode_id"),
        "type": token_param("evaluation or visit (Palpate's encounter-type code)", lambda r: codings(r.get("type"))),
    }
    includes = {**subject_includes("Encounter"),
                "Encounter:episode-of-care": Include("EpisodeOfCare", lambda r: [e["reference"] for e in r["episodeOfCare"]]),
                "Encounter:practitioner": Include("Practitioner", lambda r: [p["individual"]["reference"]
                                                                             for p in r["participant"]])}

    def sources(self) -> list[Source]:
        return encounter_sources()


# -- Procedure ----------------------------------------------------------------------------------------------


def _minutes(minutes: int) -> dict[str, Any]:
    return {"url": extension_url("treatment-minutes"),
            "valueDuration": {"value": minutes, "unit": "min", "system": system("ucum"), "code": "min"}}


def _procedure(ctx: Context, row: Any, kind: str, code: dict[str, Any]) -> Resource:
    visit = row.visit
    return {
        "resourceType": "Procedure",
        "id": f"{kind}-{row.pk}",
        "meta": {"lastUpdated": instant(visit.updated_at)},
        "extension": [_minutes(row.minutes)],
        "status": signed_status(visit, "completed", "in-progress"),
        "code": code,
        "subject": reference("Patient", visit.patient_id),
        "encounter": reference("Encounter", f"visit-{visit.pk}"),
        "performedDateTime": day(visit.visit_date),
        "performer": [{"actor": practitioner(visit.therapist)}],
        "reasonReference": [reference("Condition", visit.episode_id)],
    }


def treatment_procedure(ctx: Context, row: TreatmentRow) -> Resource:
    technique = knowledge_base().techniques.get(row.technique)
    words = label(row.technique)
    resource = _procedure(ctx, row, "treatment", {
        "coding": [*cpt_coding(technique.cpt if technique else None), palpate_coding("technique", row.technique, words)],
        "text": words})
    resource["extension"].append({"url": extension_url("treatment-pressure"),
                                  "valueCoding": palpate_coding("pressure", row.pressure, label(row.pressure, "pressures"))})
    site = body_site(row.region, row.side or None)
    if site:
        resource["bodySite"] = [site]
    if row.response:
        words = label(row.response, "responses")
        resource["outcome"] = {"coding": [palpate_coding("response", row.response, words)], "text": words}
    return resource


def complementary_procedure(ctx: Context, row: ComplementaryRow) -> Resource:
    therapy = knowledge_base().therapies.get(row.therapy)
    words = therapy.label if therapy else label(row.therapy)
    resource = _procedure(ctx, row, "complementary", {
        "coding": [*cpt_coding(therapy.cpt if therapy else None), palpate_coding("therapy", row.therapy, words)],
        "text": words})
    if not row.minutes:
        resource.pop("extension")
    if row.notes:
        resource["note"] = [{"text": row.notes}]
    return resource


def _visit_pk(resource_id: str) -> int | None:
    head = resource_id.removeprefix("visit-")
    return int(head) if resource_id.startswith("visit-") and head.isdigit() and len(head) <= 18 else None


@register
class ProcedureType(ResourceType):
    name = "Procedure"
    permission = CLINICAL_VIEW
    description = ("Each treatment row (technique x region x side x pressure x minutes) and each complementary "
                   "therapy of a visit, with its CPT code")
    patient_compartment = True
    search_params = {
        "_id": id_param(),
        "_lastUpdated": last_updated_param(),
        "patient": patient_param(),
        "subject": patient_param(),
        "date": date_param("the day of the visit"),
        "code": token_param("CPT (http://www.ama-assn.org/go/cpt|97140) or Palpate's technique or therapy code",
                            lambda r: codings(r.get("code"))),
        "status": status_param("completed (signed note) or in-progress (draft)", {
            "completed": Q(visit__status=RecordStatus.SIGNED), "in-progress": Q(visit__status=RecordStatus.DRAFT)}),
        "encounter": reference_param("the visit (Encounter/visit-N)", "Encounter", "visit_id", _visit_pk),
    }
    includes = {**subject_includes("Procedure"),
                "Procedure:encounter": Include("Encounter", lambda r: [r["encounter"]["reference"]])}

    def sources(self) -> list[Source]:
        related = ("visit", "visit__therapist")
        return [
            Source("treatment", lambda ctx: TreatmentRow.objects.filter(clinic_id=ctx.clinic_id).select_related(*related),
                   treatment_procedure, patient="visit__patient_id", date="visit__visit_date",
                   updated="visit__updated_at", order=("-visit__visit_date", "-pk"), rank=1),
            Source("complementary",
                   lambda ctx: ComplementaryRow.objects.filter(clinic_id=ctx.clinic_id).select_related(*related),
                   complementary_procedure, patient="visit__patient_id", date="visit__visit_date",
                   updated="visit__updated_at", order=("-visit__visit_date", "-pk"), rank=0),
        ]

