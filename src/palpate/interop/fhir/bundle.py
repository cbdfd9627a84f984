"""Bundles: search results with their paging links and included resources, and everything about a patient."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

from palpate.interop.fhir.context import Context
from palpate.interop.fhir.errors import FhirError
from palpate.interop.fhir.registry import REGISTRY, Page, Resource, ResourceType
from palpate.interop.fhir.search import Query


def entry(ctx: Context, resource: Resource, mode: str = "match") -> dict[str, Any]:
    return {"fullUrl": ctx.url(f"{resource['resourceType']}/{resource['id']}"), "resource": resource,
            "search": {"mode": mode}}


def resolve_references(ctx: Context, references: Iterable[str], seen: set[str]) -> list[Resource]:
    """Read every ``Type/id`` not yet in ``seen``, batched per type; types the actor may not read are left out."""
    wanted: dict[str, list[str]] = {}
    for ref in references:
        kind, _, rid = ref.partition("/")
        if ref in seen or kind not in REGISTRY or not rid:
            continue
        seen.add(ref)
        wanted.setdefault(kind, []).append(rid)
    found = []
    for kind, ids in wanted.items():
        resource_type = REGISTRY[kind]
        if not ctx.may(resource_type.permission):
            continue
        found += resource_type.read_many(ctx, ids)
    return found


def included(ctx: Context, resource_type: ResourceType, page: Page, includes: list[str]) -> list[Resource]:
    if not includes:
        return []
    refs: list[str] = []
    for name in includes:
        include = resource_type.includes[name]
        for resource in page.resources:
            refs += include.references(resource)
    seen = {f"{r['resourceType']}/{r['id']}" for r in page.resources}
    return resolve_references(ctx, refs, seen)


def search_bundle(ctx: Context, resource_type: ResourceType, query: Query, page: Page) -> dict[str, Any]:
    def link(relation: str, offset: int) -> dict[str, str]:
        params = [*query.echo, ("_count", str(query.count))] + ([("_offset", str(offset))] if offset else [])
        return {"relation": relation, "url": ctx.url(resource_type.name) + "?" + urlencode(params)}

    links = [link("self", query.offset), link("first", 0)]
    if query.offset:
        links.append(link("previous", max(0, query.offset - query.count)))
    if page.has_more:
        links.append(link("next", query.offset + query.count))
    bundle: dict[str, Any] = {"resourceType": "Bundle", "id": str(uuid.uuid4()), "type": "searchset"}
    if page.total is not None:
        bundle["total"] = page.total
    bundle["link"] = links
    extra = included(ctx, resource_type, page, query.includes)
    entries = [entry(ctx, r) for r in page.resources] + [entry(ctx, r, "include") for r in extra]
    if entries:
        bundle["entry"] = entries
    return bundle


def references_in(value: Any, out: set[str]) -> None:
    """Every ``Type/id`` reference anywhere in a resource (and questionnaires by canonical URL)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "reference" and isinstance(item, str):
                out.add(item)
            elif key == "questionnaire" and isinstance(item, str):
                out.add("Questionnaire/" + item.rsplit("/", 1)[-1])
            else:
                references_in(item, out)
    elif isinstance(value, list):
        for item in value:
            references_in(item, out)


def everything_bundle(ctx: Context, patient_id: int, types: list[str] | None, since: Any) -> dict[str, Any]:
    """Patient/$everything: every resource of the patient's compartment the actor may read, plus what they
    refer to (the clinic, practitioners, questionnaires), in one searchset."""
    resources: list[Resource] = []
    for name, resource_type in REGISTRY.items():
        if not resource_type.patient_compartment or (types and name not in types):
            continue
        if not ctx.may(resource_type.permission):
            if types:
                raise FhirError(403, "forbidden", f"Your role (or your token's scope) does not allow reading {name}.")
            continue
        resources += list(resource_type.stream(ctx, [patient_id], since))
    refs: set[str] = set()
    references_in(resources, refs)
    seen = {f"{r['resourceType']}/{r['id']}" for r in resources}
    extra = resolve_references(ctx, sorted(refs), seen) if not types else []
    entries = [entry(ctx, r) for r in resources] + [entry(ctx, r, "include") for r in extra]
    bundle: dict[str, Any] = {"resourceType": "Bundle", "id": str(uuid.uuid4()), "type": "searchset",
                              "total": len(resources),
                              "link": [{"relation": "self", "url": ctx.url(f"Patient/{patient_id}/$everything")}]}
    if entries:
        bundle["entry"] = entries
    return bundle
