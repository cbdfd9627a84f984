"""Code systems, Palpate's own canonical URLs, and the small helpers every resource builds with.

Palpate's own codes (techniques, pressures, regions without a SNOMED CT code, conditions, payers)
are published under ``CANONICAL``; standard codes come from the knowledge base with their
verification status (``palpate.core.terminology``) and are exported only when verified.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from palpate.core import vocabulary
from palpate.core.kb.clinical import knowledge_base
from palpate.core.terminology import terminology

# Palpate's canonical base: the same on every installation, so a profile or code system named
# here means the same thing wherever the data went. Definitions are served by every server at
# /fhir/R4/StructureDefinition/<id> and kept in docs/fhir/.
CANONICAL = "https://palpate.org/fhir"


def system(name: str) -> str:
    return terminology().systems[name]


def palpate_system(kind: str) -> str:
    return f"{CANONICAL}/CodeSystem/{kind}"


def extension_url(name: str) -> str:
    return f"{CANONICAL}/StructureDefinition/{name}"


def palpate_coding(kind: str, code: str, display: str | None = None) -> dict[str, Any]:
    coding = {"system": palpate_system(kind), "code": code}
    if display:
        coding["display"] = display
    return coding


def label(code: str, kind: str | None = None) -> str:
    try:
        return vocabulary.label(code, kind) if kind else vocabulary.label(code)
    except (KeyError, ValueError):
        return code.replace("_", " ").capitalize()


def reference(resource_type: str, resource_id: object, display: str | None = None) -> dict[str, Any]:
    ref: dict[str, Any] = {"reference": f"{resource_type}/{resource_id}"}
    if display:
        ref["display"] = display
    return ref


def instant(value: dt.datetime | None) -> str | None:
    """An aware datetime as a FHIR instant (UTC, to the millisecond)."""
    if value is None:
        return None
    return value.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def day(value: dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def cpt_coding(code: str | None) -> list[dict[str, Any]]:
    return [{"system": system("cpt"), "code": code}] if code else []


def laterality_extension(side: str | None) -> list[dict[str, Any]]:
    """Palpate's ``laterality`` extension on a body site: SNOMED CT's qualifier for left or right."""
    if not side:
        return []
    code = terminology().laterality.get(side)
    coding = ({"system": code.system, "code": code.code, "display": code.display} if code and code.exportable
              else palpate_coding("side", side, label(side, "sides")))
    return [{"url": extension_url("laterality"), "valueCoding": coding}]


def body_site(region: str | None, side: str | None) -> dict[str, Any] | None:
    """A body region as a CodeableConcept: SNOMED CT where the knowledge base has its code, else Palpate's."""
    if not region:
        return None
    index = knowledge_base().regions
    info = index.regions.get(region) or index.groups.get(region)  # type: ignore[call-overload]
    words = label(region)
    text = f"{label(side, 'sides')} {words[0].lower()}{words[1:]}" if side else words
    codings = []
    snomed = getattr(info, "snomed", None) if info is not None else None
    if snomed:
        codings.append({"system": system("snomed"), "code": snomed, "display": words})
    codings.append(palpate_coding("body-region", region, words))
    concept: dict[str, Any] = {"coding": codings, "text": text}
    if side:
        concept["extension"] = laterality_extension(side)
    return concept


def region_from_site(concept: Any) -> tuple[str | None, str | None]:
    """(region, side) from a body-site CodeableConcept: Palpate's code, or a SNOMED CT code the KB maps."""
    if not isinstance(concept, dict):
        return None, None
    index = knowledge_base().regions
    region = None
    by_snomed = {r.snomed: code for code, r in index.regions.items() if r.snomed}
    for coding in concept.get("coding") or []:
        if not isinstance(coding, dict):
            continue
        if coding.get("system") == palpate_system("body-region") and coding.get("code") in index.regions:
            region = coding["code"]
            break
        if coding.get("system") == system("snomed") and coding.get("code") in by_snomed:
            region = by_snomed[coding["code"]]
    side = None
    for extension in concept.get("extension") or []:
        if isinstance(extension, dict) and extension.get("url") == extension_url("laterality"):
            coding = extension.get("valueCoding") or {}
            by_code = {c.code: key for key, c in terminology().laterality.items()}
            side = by_code.get(coding.get("code")) or (coding.get("code") if coding.get("system") == palpate_system("side")
                                                        else None)
            if side is None:
                side = "?"
    return region, side
