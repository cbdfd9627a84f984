"""Observation: pain (NPRS), vital signs and range of motion from evaluations and visits, and each
outcome measure's score.

Ids say where each comes from: ``evaluation-12-nprs``, ``visit-40-nprs-before``, ``visit-40-bp``,
``visit-40-rom-0``, ``outcome-7`` (``outcome-7-functional_status`` for one of the BCTQ's two
scales). LOINC codes are those the knowledge base holds as verified (NPRS 72514-3; the vital signs
of FHIR's vital-signs value set); unverified codes (ODI, NDI) are not exported and no LOINC code
was found for a joint's range of motion: those carry Palpate's own code and words only.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from palpate.clinics.roles import CLINICAL_VIEW
from palpate.core import measures
from palpate.core.measures import Status
from palpate.core.terminology import terminology
from palpate.evaluations.models import Evaluation
from palpate.interop.fhir.codes import body_site, day, instant, label, palpate_coding, reference, system
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
from palpate.interop.fhir.resources.clinical import practitioner, signed_status, subject_includes
from palpate.lib.models_common import RecordStatus
from palpate.lib.vocabulary import rom_movements
from palpate.outcomes.models import OutcomeMeasurement
from palpate.visits.models import Visit

CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
CATEGORY_WORDS = {"vital-signs": "Vital Signs", "survey": "Survey", "exam": "Exam"}


def category(code: str) -> list[dict[str, Any]]:
    return [{"coding": [{"system": CATEGORY, "code": code, "display": CATEGORY_WORDS[code]}]}]


def loinc(code: Any) -> list[dict[str, Any]]:
    """The LOINC coding of a terminology or instrument entry, only when the knowledge base verified it."""
    if code is None or not code.code:
        return []
    verified = code.status in ("verified", Status.VERIFIED)
    return [{"system": system("loinc"), "code": code.code, "display": code.display}] if verified else []


def quantity(value: float, unit: str, ucum: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": system("ucum"), "code": ucum}


def _observation(row: Any, obs_id: str, status: str, kind: str, code: dict[str, Any], when: Any,
                 encounter: str | None, performer: Any, updated: Any) -> Resource:
    resource: Resource = {
        "resourceType": "Observation",
        "id": obs_id,
        "meta": {"lastUpdated": instant(updated)},
        "status": status,
        "category": category(kind),
        "code": code,
        "subject": reference("Patient", row.patient_id),
        "effectiveDateTime": day(when),
    }
    if encounter:
        resource["encounter"] = reference("Encounter", encounter)
    if performer is not None:
        resource["performer"] = [practitioner(performer)]
    return resource


def _nprs_code(which: str, words: str) -> dict[str, Any]:
    return {"coding": [*loinc(measures.instrument("nprs").loinc), palpate_coding("observation", which, words)],
            "text": words}


def record_observations(ctx: Context, row: Any, kind: str) -> list[Resource]:
    """Everything measured in one evaluation or visit note."""
    when = row.performed_on if kind == "evaluation" else row.visit_date
    status = signed_status(row, "final", "preliminary")
    encounter = f"{kind}-{row.pk}"

    def obs(suffix: str, category_code: str, code: dict[str, Any]) -> Resource:
        return _observation(row, f"{kind}-{row.pk}-{suffix}", status, category_code, code, when, encounter,
                            row.therapist, row.updated_at)

    out = []
    pains = ([("nprs", row.pain_nprs, "Pain at evaluation (NPRS 0-10)")] if kind == "evaluation" else
             [("nprs-before", row.nprs_before, "Pain before treatment (NPRS 0-10)"),
              ("nprs-after", row.nprs_after, "Pain after treatment (NPRS 0-10)")])
    for suffix, value, words in pains:
        if value is not None:
            resource = obs(suffix, "survey", _nprs_code(suffix, words))
            resource["valueInteger"] = int(value)
            out.append(resource)
    vitals = row.vitals or {}
    terms = terminology().vitals
    if vitals.get("temperature_c") is not None:
        term = terms["temperature_c"]
        resource = obs("temperature", "vital-signs", {"coding": [*loinc(term.loinc), palpate_coding(
            "observation", "temperature", "Body temperature")], "text": "Body temperature"})
        resource["valueQuantity"] = quantity(float(vitals["temperature_c"]), term.unit_display, term.unit_code)
        out.append(resource)
    pressures = [(key, vitals.get(key)) for key in ("bp_systolic", "bp_diastolic") if vitals.get(key) is not None]
    if pressures:
        panel = terms["blood_pressure"]
        resource = obs("bp", "vital-signs", {"coding": [*loinc(panel.loinc), palpate_coding(
            "observation", "blood-pressure", "Blood pressure")], "text": "Blood pressure"})
        resource["component"] = [
            {"code": {"coding": [*loinc(terms[key].loinc), palpate_coding("observation", key.replace("_", "-"),
                                                                           terms[key].loinc.display)],
                      "text": terms[key].loinc.display},
             "valueQuantity": quantity(float(value), terms[key].unit_display, terms[key].unit_code)}
            for key, value in pressures]
        out.append(resource)
    movements = rom_movements()
    rom = terminology().range_of_motion
    for index, entry in enumerate(row.rom or []):
        if not isinstance(entry, dict) or entry.get("degrees") is None:
            continue
        key = f"{entry.get('joint')}:{entry.get('motion')}"
        words = (movements[key][2].split(" (normal")[0] if key in movements
                 else f"{label(str(entry.get('joint')))} {str(entry.get('motion')).replace('_', ' ')}")
        words = f"{words} range of motion"
        resource = obs(f"rom-{index}", "exam", {"coding": [*loinc(rom.loinc), palpate_coding(
            "range-of-motion", key.replace(":", "-").replace("_", "-"), words)], "text": words})
        resource["valueQuantity"] = quantity(float(entry["degrees"]), rom.unit_display, rom.unit_code)
        site = body_site(entry.get("joint"), entry.get("side") or None)
        if site:
            resource["bodySite"] = site
        if entry.get("percent_of_normal") is not None:
            resource["component"] = [{
                "code": {"coding": [palpate_coding("observation", "percent-of-normal", "Percent of normal range")],
                         "text": "Percent of normal range"},
                "valueQuantity": quantity(float(entry["percent_of_normal"]), "%", "%")}]
        out.append(resource)
    return out


def _ucum(units: str) -> tuple[str, str]:
    return ("%", "%") if units.startswith("percent") else (units, "{score}")


def outcome_observations(ctx: Context, row: OutcomeMeasurement) -> list[Resource]:
    """The score of one completed questionnaire: one observation per scale (the BCTQ has two)."""
    inst = measures.instrument(row.instrument)
    out = []
    for scale in inst.scales:
        obs_id = f"outcome-{row.pk}" if not inst.is_multiscale else f"outcome-{row.pk}-{scale.code}"
        words = f"{inst.abbreviation or inst.name} score" if not inst.is_multiscale else \
            f"{inst.abbreviation} {scale.name}"
        code_key = inst.code if not inst.is_multiscale else f"{inst.code}-{scale.code}"
        coding = loinc(inst.loinc) if not inst.is_multiscale else []
        resource = _observation(row, obs_id, "final", "survey", {
            "coding": [*coding, palpate_coding("outcome-measure", code_key.replace("_", "-"), words)], "text": words},
            row.taken_on, f"visit-{row.visit_id}" if row.visit_id else None, row.entered_by, row.created_at)
        value = row.score if not inst.is_multiscale else (row.scores or {}).get(scale.code)
        if row.valid and value is not None:
            unit, ucum = _ucum(scale.units)
            resource["valueQuantity"] = quantity(round(float(value), 2), unit, ucum)
        else:
            resource["dataAbsentReason"] = {
                "coding": [{"system": "http://terminology.hl7.org/CodeSystem/data-absent-reason", "code": "unknown"}],
                "text": "Not scored: too many items were left unanswered"}
        resource["derivedFrom"] = [reference("QuestionnaireResponse", row.pk)]
        out.append(resource)
    return out


def _status(qs: QuerySet[Any], tokens: Any, source: Source) -> QuerySet[Any]:
    codes = {t.code for t in tokens}
    if None in codes:
        return qs
    if source.prefix == "outcome":
        return qs if "final" in codes else qs.none()
    wanted = [RecordStatus.SIGNED for c in codes if c == "final"] + [RecordStatus.DRAFT for c in codes
                                                                     if c == "preliminary"]
    return qs.filter(status__in=wanted)


def _encounter(qs: QuerySet[Any], ids: list[str], source: Source) -> QuerySet[Any]:
    def pks(prefix: str) -> list[int]:
        return [int(i.split("-", 1)[1]) for i in ids
                if i.startswith(prefix + "-") and i.split("-", 1)[1].isdigit() and len(i) < 40]

    if source.prefix == "outcome":
        return qs.filter(visit_id__in=pks("visit"))
    return qs.filter(pk__in=pks(source.prefix))


@register
class ObservationType(ResourceType):
    name = "Observation"
    permission = CLINICAL_VIEW
    description = "Pain (NPRS), vital signs and range of motion of each evaluation and visit, and outcome scores"
    patient_compartment = True
    search_params = {
        "_id": id_param(),
        "_lastUpdated": last_updated_param(),
        "patient": patient_param(),
        "subject": patient_param(),
        "date": date_param("the day it was measured"),
        "code": token_param("LOINC (http://loinc.org|72514-3) or Palpate's observation, outcome-measure or "
                            "range-of-motion code", lambda r: codings(r.get("code"))),
        "category": token_param("vital-signs, survey or exam", lambda r: codings(r.get("category"))),
        "status": Param("token", "final (signed, or an outcome measure) or preliminary (a draft note)", db=_status),
        "encounter": Param("reference", "the evaluation or visit (Encounter/visit-N)", db=_encounter,
                           target="Encounter"),
    }
    includes = {**subject_includes("Observation"),
                "Observation:encounter": Include("Encounter", lambda r: [r["encounter"]["reference"]]
                                                 if "encounter" in r else [])}

    def sources(self) -> list[Source]:
        return [
            Source("evaluation", lambda ctx: Evaluation.objects.filter(clinic_id=ctx.clinic_id).select_related("therapist"),
                   lambda ctx, row: record_observations(ctx, row, "evaluation"), date="performed_on",
                   order=("-performed_on", "-pk"), rank=0, one_per_row=False),
            Source("visit", lambda ctx: Visit.objects.filter(clinic_id=ctx.clinic_id).select_related("therapist"),
                   lambda ctx, row: record_observations(ctx, row, "visit"), date="visit_date",
                   order=("-visit_date", "-pk"), rank=1, one_per_row=False),
            Source("outcome",
                   lambda ctx: OutcomeMeasurement.objects.filter(clinic_id=ctx.clinic_id).select_related("entered_by"),
                   outcome_observations, date="taken_on", updated="created_at", order=("-taken_on", "-pk"), rank=2,
                   one_per_row=False),
        ]
