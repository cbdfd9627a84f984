"""The FHIR R4 endpoints under /fhir/R4/ (read, search, $everything, create, transaction, bulk export)
and the owners' page for API tokens."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from palpate.clinics.http import AuthenticatedHttpRequest
from palpate.clinics.roles import CLINIC_MANAGE, PATIENT_VIEW
from palpate.interop import services
from palpate.interop.access import access_export, access_token, tokens_for
from palpate.interop.fhir import bulk
from palpate.interop.fhir.bundle import everything_bundle, search_bundle
from palpate.interop.fhir.capability import capability_statement
from palpate.interop.fhir.context import Context
from palpate.interop.fhir.errors import FhirError, forbidden
from palpate.interop.fhir.registry import REGISTRY, resource_type
from palpate.interop.fhir.search import (
    ID_PATTERN,
    MAX_COUNT,
    MAX_OFFSET,
    Query,
    parse_date,
    parse_int,
    raise_unknown,
    strict_handling,
)
from palpate.interop.fhir.writes import create_resources, transaction_entries
from palpate.interop.forms import TokenForm
from palpate.interop.http import fhir_response, fhir_view, json_body
from palpate.interop.models import ExportStatus
from palpate.lib.decorators import member_required
from palpate.patients.access import access_patient


def software_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("palpate")
    except PackageNotFoundError:
        return "unknown"


# Result parameters handled here rather than by a resource type.
CONTROL = {"_count", "_offset", "_include", "_format"}


def _method(request: HttpRequest, *allowed: str) -> None:
    if request.method not in allowed:
        raise FhirError(405, "not-supported", f"{request.method} is not supported here; use {' or '.join(allowed)}.",
                        headers={"Allow": ", ".join(allowed)})


@fhir_view("fhir.metadata")
def metadata(request: HttpRequest, ctx: Context) -> HttpResponse:
    _method(request, "GET", "HEAD")
    return fhir_response(capability_statement(ctx.base, software_version()))


@fhir_view("fhir.transaction")
def root(request: HttpRequest, ctx: Context) -> HttpResponse:
    _method(request, "POST")
    items = transaction_entries(json_body(request))
    created = create_resources(ctx, items)
    entries = [{"response": {"status": "201 Created", "location": f"{r['resourceType']}/{r['id']}"},
                "fullUrl": ctx.url(f"{r['resourceType']}/{r['id']}"), "resource": r} for r in created]
    return fhir_response({"resourceType": "Bundle", "type": "transaction-response", "entry": entries})


def parse_query(request: HttpRequest, type_name: str, data: Any) -> Query:
    rt = resource_type(type_name)
    strict = strict_handling(request.headers.get("Prefer"))
    query = Query()
    for name in data:
        for raw in data.getlist(name):
            if name == "_count":
                query.count = parse_int(name, raw, 1, MAX_COUNT)
            elif name == "_offset":
                query.offset = parse_int(name, raw, 0, MAX_OFFSET)
            elif name == "_include":
                if raw not in rt.includes:
                    supported = ", ".join(sorted(rt.includes)) or "none"
                    raise FhirError(400, "not-supported", f"_include={raw} is not supported for {type_name}; "
                                                          f"supported: {supported}.", expression=["_include"])
                query.includes.append(raw)
                query.echo.append((name, raw))
            elif name == "_format":
                continue
            elif name in rt.search_params:
                query.params.setdefault(name, []).append(rt.parse(name, raw))
                query.echo.append((name, raw))
            elif strict:
                raise_unknown(type_name, name, rt.search_params)
    return query


@fhir_view("fhir.search")
def type_level(request: HttpRequest, ctx: Context, type_name: str) -> HttpResponse:
    rt = resource_type(type_name)
    if request.method == "POST":
        if "create" not in rt.interactions:
            creatable = [name for name, kind in REGISTRY.items() if "create" in kind.interactions]
            raise FhirError(405, "not-supported", f"{type_name} resources cannot be created through the API"
                                                  f" (only {', '.join(creatable)}).")
        created = rt.create(ctx, json_body(request))  # type: ignore[attr-defined]
        response = fhir_response(created, 201, {"Location": ctx.url(f"{type_name}/{created['id']}")})
        response.audit_action = "fhir.create"  # type: ignore[attr-defined]
        return response
    _method(request, "GET", "HEAD", "POST")
    if "search-type" not in rt.interactions:
        raise FhirError(405, "not-supported", f"{type_name} cannot be searched; read one by id.")
    query = parse_query(request, type_name, request.GET)
    return fhir_response(search_bundle(ctx, rt, query, rt.search(ctx, query)))


@fhir_view("fhir.search")
def search_post(request: HttpRequest, ctx: Context, type_name: str) -> HttpResponse:
    """``POST <Type>/_search`` with form-encoded parameters, as FHIR allows for long queries."""
    _method(request, "POST")
    rt = resource_type(type_name)
    query = parse_query(request, type_name, request.POST)
    return fhir_response(search_bundle(ctx, rt, query, rt.search(ctx, query)))


@fhir_view("fhir.read")
def instance(request: HttpRequest, ctx: Context, type_name: str, resource_id: str) -> HttpResponse:
    rt = resource_type(type_name)
    writes = {"PUT": "update", "DELETE": "delete"}
    allowed = ["GET", "HEAD", *(method for method, name in writes.items() if name in rt.interactions)]
    _method(request, *allowed)
    if not ID_PATTERN.match(resource_id):
        raise FhirError(400, "invalid", f"{resource_id!r} is not a FHIR id (letters, digits, '-' and '.', up to 64).")
    if request.method == "PUT":
        # A type that declares "update" implements update(ctx, id, body) -> resource (409 on a conflict).
        response = fhir_response(rt.update(ctx, resource_id, json_body(request)))  # type: ignore[attr-defined]
        response.audit_action = "fhir.update"  # type: ignore[attr-defined]
        return response
    if request.method == "DELETE":
        # A type that declares "delete" implements delete(ctx, id, query parameters) (Appointment: cancel it,
        # ?reason=... saying why).
        rt.delete(ctx, resource_id, request.GET)  # type: ignore[attr-defined]
        response = HttpResponse(status=204)
        response.audit_action = "fhir.delete"  # type: ignore[attr-defined]
        return response
    if type_name == "Binary" and "application/pdf" in request.headers.get("Accept", ""):
        pdf, row = REGISTRY["Binary"].document(ctx, resource_id)  # type: ignore[attr-defined]
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Cache-Control"] = "no-store"
        return response
    return fhir_response(rt.read(ctx, resource_id))


@fhir_view("fhir.everything")
def everything(request: HttpRequest, ctx: Context, resource_id: str) -> HttpResponse:
    _method(request, "GET", "POST")
    ctx.require(PATIENT_VIEW, "patients")
    patient = access_patient(ctx.actor, resource_id) if resource_id.isdigit() and len(resource_id) <= 18 else None
    if patient is None:
        raise Http404
    types = None
    since = None
    for name in request.GET:
        raw = request.GET[name]
        if name == "_type":
            types = [t.strip() for t in raw.split(",") if t.strip()]
            for name_ in types:
                resource_type(name_)
        elif name == "_since":
            since = parse_date("_since", raw).start
        elif name not in CONTROL and strict_handling(request.headers.get("Prefer")):
            raise FhirError(400, "not-supported", f"Patient/$everything takes _type and _since, not {name!r}.",
                            expression=[name])
    ctx.saw(patient.pk)
    return fhir_response(everything_bundle(ctx, patient.pk, types, since))


# -- bulk export -------------------------------------------------------------------------------------------


def _kick_off(request: HttpRequest, ctx: Context, level: str, group: str = "") -> HttpResponse:
    _method(request, "GET", "POST")
    if getattr(ctx.actor, "token", None) is None:
        raise forbidden("Bulk export needs an API token: its files are downloaded with the same token.")
    if "respond-async" not in request.headers.get("Prefer", ""):
        raise FhirError(400, "required", "A bulk export runs in the background: send 'Prefer: respond-async'.")
    params = request.GET if request.method == "GET" else _export_parameters(request)
    options = bulk.parse_options(ctx, params, level)
    export = services.do_start_export(ctx.actor, level=level, group=group, types=options.types,  # type: ignore[arg-type]
                                      since=options.since, request_url=request.build_absolute_uri())
    response = HttpResponse(status=202)
    response["Content-Location"] = ctx.url(f"$export-status/{export.pk}")
    response.audit_action = "fhir.export.kickoff"  # type: ignore[attr-defined]
    return response


def _export_parameters(request: HttpRequest) -> Any:
    """A POST kick-off carries a Parameters resource; turn it into query-like pairs."""
    from django.http import QueryDict

    body = json_body(request) if request.body else {"resourceType": "Parameters"}
    if not isinstance(body, dict) or body.get("resourceType") != "Parameters":
        raise FhirError(400, "structure", "A POST kick-off takes a Parameters resource.")
    params = QueryDict(mutable=True)
    for parameter in body.get("parameter") or []:
        value = next((v for k, v in parameter.items() if k.startswith("value")), None)
        if parameter.get("name") and value is not None:
            params.appendlist(str(parameter["name"]), str(value))
    return params


@fhir_view("fhir.export.kickoff")
def export_system(request: HttpRequest, ctx: Context) -> HttpResponse:
    return _kick_off(request, ctx, "system")


@fhir_view("fhir.export.kickoff")
def export_patients(request: HttpRequest, ctx: Context) -> HttpResponse:
    return _kick_off(request, ctx, "patient")


@fhir_view("fhir.export.kickoff")
def export_group(request: HttpRequest, ctx: Context, group_id: str) -> HttpResponse:
    REGISTRY["Group"].read(ctx, group_id)  # 404 for a group that does not exist
    return _kick_off(request, ctx, "group", group_id)


@fhir_view("fhir.export.status")
def export_status(request: HttpRequest, ctx: Context, export_id: str) -> HttpResponse:
    _method(request, "GET", "DELETE")
    try:
        export = access_export(ctx.actor, export_id)
    except Http404:
        raise FhirError(404, "not-found", f"No export {export_id} of yours (it may have expired or been deleted).") \
            from None
    if request.method == "DELETE":
        services.do_cancel_export(ctx.actor, export)  # type: ignore[arg-type]
        response = HttpResponse(status=202)
        response.audit_action = "fhir.export.delete"  # type: ignore[attr-defined]
        return response
    if export.status in (ExportStatus.QUEUED, ExportStatus.RUNNING):
        response = HttpResponse(status=202)
        response["X-Progress"] = export.progress or export.status
        response["Retry-After"] = "5"
        return response
    if export.status == ExportStatus.DONE:
        return fhir_response(bulk.manifest(ctx, export), headers={"Expires": _http_date(export.expires_at)})
    raise FhirError(500 if export.status == ExportStatus.FAILED else 404,
                    "exception" if export.status == ExportStatus.FAILED else "not-found",
                    f"The export {export.status}: {export.error or 'it was cancelled'}.")


@fhir_view("fhir.export.download")
def export_file(request: HttpRequest, ctx: Context, export_id: str, filename: str) -> HttpResponse:
    _method(request, "GET")
    try:
        export = access_export(ctx.actor, export_id)
    except Http404:
        raise FhirError(404, "not-found", f"No export {export_id} of yours (its files may have expired).") from None
    if export.status != ExportStatus.DONE or (export.expires_at and export.expires_at <= timezone.now()):
        raise FhirError(404, "not-found", "The export's files have expired or are not ready; start a new export.")
    file = next((f for f in export.files.all() if f.filename == filename), None)
    path = services.export_dir(export) / filename if file is not None else None
    if file is None or path is None or not path.is_file():
        raise FhirError(404, "not-found", f"The export has no file {filename!r}; the manifest lists its files.")
    for patient_id in file.patient_ids:
        ctx.saw(patient_id)
    response = FileResponse(open(path, "rb"), content_type="application/fhir+ndjson")  # noqa: SIM115 - closed by Django
    response["Cache-Control"] = "no-store"
    return response


def _http_date(moment: dt.datetime | None) -> str:
    from django.utils.http import http_date

    return http_date((moment or timezone.now()).timestamp())


# -- the owners' page for API tokens -----------------------------------------------------------------------------


@member_required(CLINIC_MANAGE)
@require_http_methods(["GET", "POST"])
def tokens(request: AuthenticatedHttpRequest) -> HttpResponse:
    actor = request.actor
    form = TokenForm(request.POST or None, clinic=actor.clinic)
    if request.method == "POST" and form.is_valid():
        try:
            membership = form.cleaned_data["member"]
            if form.cleaned_data.get("client_name"):
                membership = services.do_create_system_client(actor, form.cleaned_data["client_name"],
                                                              form.cleaned_data["client_role"])
            new = services.check_create_token(actor, actor.clinic, membership, form.cleaned_data["scope"],
                                              form.cleaned_data["days"], form.cleaned_data["label"])
        except services.InputProblem as problem:
            form.add_error(problem.field if problem.field in form.fields else None, problem.message)
        else:
            token, raw = services.do_create_token(actor, new)
            return render(request, "interop/token_created.html", {"token": token, "raw": raw,
                                                                  "base": request.build_absolute_uri("/fhir/R4")})
    return render(request, "interop/tokens.html", {"form": form, "tokens": tokens_for(actor), "now": timezone.now(),
                                                   "max_days": settings.PALPATE_API_TOKEN_MAX_DAYS})


@member_required(CLINIC_MANAGE)
@require_http_methods(["POST"])
def revoke(request: AuthenticatedHttpRequest, token_pk: int) -> HttpResponse:
    token = access_token(request.actor, token_pk)
    services.do_revoke_token(request.actor, token)
    messages.success(request, f"Token {token.label} revoked: it no longer works.")
    return HttpResponseRedirect(reverse("interop:tokens"))

