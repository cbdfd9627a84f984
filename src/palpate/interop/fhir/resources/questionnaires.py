"""Questionnaire (each outcome instrument) and QuestionnaireResponse (each completed one).

Items are identified by link id (the item's number; ``<scale>-<number>`` for the BCTQ's two scales)
and carry Palpate's topic label, in its own words. A clinic that loaded an instrument's licensed
wording gets that wording in its Questionnaire; nobody else does (the wording is copyrighted).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from palpate.clinics.roles import CLINICAL_VIEW
from palpate.core import measures
from palpate.core.measures import Instrument, Item
from palpate.core.measures.catalogue import catalogue
from palpate.interop.fhir.codes import CANONICAL, day, instant, palpate_system, reference
from palpate.interop.fhir.context import Context
from palpate.interop.fhir.errors import not_found
from palpate.interop.fhir.registry import (
    Include,
    Page,
    Param,
    Resource,
    ResourceType,
    Source,
    date_param,
    last_updated_param,
    patient_param,
    register,
)
from palpate.interop.fhir.resources.base import id_param
from palpate.interop.fhir.resources.clinical import practitioner, subject_includes
from palpate.interop.fhir.search import Query
from palpate.outcomes.models import OutcomeMeasurement
from palpate.outcomes.wording import clinic_instrument


def questionnaire_url(code: str) -> str:
    return f"{CANONICAL}/Questionnaire/{code}"


def link_id(inst: Instrument, item: Item) -> str:
    return f"{item.subscale}-{item.number}" if inst.is_multiscale else str(item.number)


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def answer_coding(item: Item, value: int) -> dict[str, Any]:
    words = {option.value: option.label for option in item.option_wording or item.scale}
    return {"system": palpate_system(f"answers-{item.answer_scale or 'scale'}".replace("_", "-")), "code": str(value),
            "display": _sentence(words.get(value, str(value)))}


def clinic_version(ctx: Context, code: str) -> tuple[Instrument, bool]:
    key = ("instrument", code)
    if key not in ctx.cache:
        shown = clinic_instrument(ctx.clinic_id, code)
        ctx.cache[key] = (shown.instrument, shown.wording_loaded)
    return ctx.cache[key]  # type: ignore[no-any-return]


def questionnaire(ctx: Context, code: str) -> Resource:
    inst, licensed = clinic_version(ctx, code)
    version = catalogue().version + ("-licensed-wording" if licensed else "")
    resource: Resource = {
        "resourceType": "Questionnaire",
        "id": code,
        "url": questionnaire_url(code),
        "version": version,
        "name": (inst.abbreviation or code).upper().replace("-", "_").replace(" ", "_"),
        "title": inst.name,
        "status": "active",
        "subjectType": ["Patient"],
        "publisher": "Palpate",
        "description": ("Items carry the clinic's licensed wording." if licensed else
                        "Items carry short topic labels in Palpate's own words, not the instrument's wording."),
        "item": [],
    }
    if inst.licence.status != "not_required":
        resource["copyright"] = inst.licence.note
    for item in inst.items:
        resource["item"].append({
            "linkId": link_id(inst, item),
            "prefix": str(item.number),
            "text": _sentence(item.wording or item.topic),
            "type": "choice",
            "answerOption": [{"valueCoding": answer_coding(item, option.value)} for option in item.scale],
        })
    return resource


@register
class QuestionnaireType(ResourceType):
    name = "Questionnaire"
    permission = CLINICAL_VIEW
    description = "The outcome instruments Palpate scores: " + ", ".join(i.code for i in measures.instruments())
    search_params = {"_id": id_param(), "url": Param("uri", "the canonical URL")}

    def codes(self) -> list[str]:
        return [inst.code for inst in measures.instruments()]

    def read_many(self, ctx: Context, ids: Any) -> list[Resource]:
        self.check_read(ctx)
        return [questionnaire(ctx, i) for i in dict.fromkeys(ids) if i in self.codes()]

    def read(self, ctx: Context, resource_id: str) -> Resource:
        found = self.read_many(ctx, [resource_id])
        if not found:
            raise not_found("Questionnaire", resource_id)
        return found[0]

    def search(self, ctx: Context, query: Query) -> Page:
        self.check_read(ctx)
        wanted = self.codes()
        for tokens in query.values("_id"):
            wanted = [c for c in wanted if any(t.code == c for t in tokens)]
        for url in query.values("url"):
            wanted = [c for c in wanted if questionnaire_url(c) == url]
        found = self.read_many(ctx, wanted)
        end = query.offset + query.count
        return Page(found[query.offset:end], len(found) > end, len(found))

    def sources(self) -> list[Source]:
        return []

    def stream(self, ctx: Context, patient_ids: list[int] | None, since: Any = None, chunk: int = 1000) -> Any:
        return iter(self.read_many(ctx, self.codes()))


def questionnaire_response(ctx: Context, row: OutcomeMeasurement) -> Resource:
    inst, _ = clinic_version(ctx, row.instrument)
    answers = row.answers
    by_scale = answers if isinstance(answers, dict) else {inst.scales[0].code: answers}
    items = []
    for scale in inst.scales:
        given = list(by_scale.get(scale.code) or [])
        for position, value in enumerate(given):
            item = scale.items[min(position, len(scale.items) - 1)]
            if value is None:
                continue  # an unanswered item has no answer to report
            entry: dict[str, Any] = {"linkId": link_id(inst, item), "text": _sentence(item.wording or item.topic)}
            if inst.code == "psfs" and position < len(row.activities or []):
                entry["text"] = str(row.activities[position])  # the activity the patient named
            entry["answer"] = [{"valueCoding": answer_coding(item, int(value))}]
            items.append(entry)
    resource: Resource = {
        "resourceType": "QuestionnaireResponse",
        "id": str(row.pk),
        "meta": {"lastUpdated": instant(row.created_at)},
        "questionnaire": questionnaire_url(row.instrument),
        "status": "completed",
        "subject": reference("Patient", row.patient_id),
        "authored": day(row.taken_on),
        "author": practitioner(row.entered_by),
        "source": reference("Patient", row.patient_id),
        "item": items,
    }
    if row.visit_id:
        resource["encounter"] = reference("Encounter", f"visit-{row.visit_id}")
    return resource


def _questionnaire(qs: QuerySet[Any], raw: Any, source: Source) -> QuerySet[Any]:
    codes = [part.strip().rstrip("/").rsplit("/", 1)[-1] for part in str(raw).split(",")]
    return qs.filter(instrument__in=codes)


def _status(qs: QuerySet[Any], tokens: Any, source: Source) -> QuerySet[Any]:
    return qs if any(t.code in (None, "completed") for t in tokens) else qs.none()


@register
class QuestionnaireResponseType(ResourceType):
    name = "QuestionnaireResponse"
    permission = CLINICAL_VIEW
    description = "Each completed outcome questionnaire, answers by link id"
    patient_compartment = True
    search_params = {
        "_id": id_param(),
        "_lastUpdated": last_updated_param(),
        "patient": patient_param(),
        "subject": patient_param(),
        "authored": date_param("the day it was completed"),
        "questionnaire": Param("reference", "the instrument (its canonical URL, Questionnaire/odi or odi)",
                               db=lambda qs, raw, source: _questionnaire(qs, raw, source), target="Questionnaire"),
        "status": Param("token", "completed (every stored response is)", db=_status),
    }
    includes = {**subject_includes("QuestionnaireResponse"),
                "QuestionnaireResponse:questionnaire": Include(
                    "Questionnaire", lambda r: [f"Questionnaire/{r['questionnaire'].rsplit('/', 1)[-1]}"])}

    def parse(self, name: str, raw: str) -> Any:
        if name == "questionnaire":
            return raw  # a canonical URL is not an id: matched by its last part
        return super().parse(name, raw)

    def sources(self) -> list[Source]:
        return [Source("", lambda ctx: OutcomeMeasurement.objects.filter(clinic_id=ctx.clinic_id)
                       .select_related("entered_by"), questionnaire_response, date="taken_on", updated="created_at",
                       order=("-taken_on", "-pk"))]

