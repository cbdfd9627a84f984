"""How a FHIR request is answered: who asks (a bearer token, or a signed-in member for reads), JSON in
and out as application/fhir+json, every error an OperationOutcome, and one audit row per request
naming the patients whose data was returned."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from palpate.audit.services import record_read
from palpate.interop.access import TokenRefused, authenticate_token, bearer_token
from palpate.interop.fhir.context import Context
from palpate.interop.fhir.errors import FhirError
from palpate.lib.decorators import client_ip

FHIR_JSON = "application/fhir+json; charset=utf-8"
SAFE_METHODS = ("GET", "HEAD")
MAX_BODY = 5 * 1024 * 1024  # a referral is a few kilobytes; this keeps a runaway client from filling memory


def fhir_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> HttpResponse:
    response = HttpResponse(json.dumps(body, separators=(",", ":"), ensure_ascii=False), status=status,
                            content_type=FHIR_JSON)
    response["Cache-Control"] = "no-store"
    for key, value in (headers or {}).items():
        response[key] = value
    return response


def error_response(error: FhirError) -> HttpResponse:
    return fhir_response(error.outcome(), error.status, error.headers)


def base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/fhir/R4").rstrip("/")


def request_actor(request: HttpRequest) -> Any:
    """The token's actor, or the signed-in member's for a read; a FhirError (401/403) otherwise."""
    raw = bearer_token(request.headers.get("Authorization"))
    if raw is not None:
        try:
            actor = authenticate_token(raw, client_ip(request))
        except TokenRefused as refused:
            raise FhirError(401, "login", refused.reason,
                            headers={"WWW-Authenticate": 'Bearer realm="palpate", error="invalid_token"'}) from None
        request.actor = actor  # type: ignore[attr-defined]
        return actor
    actor = getattr(request, "actor", None)
    if actor is None or not request.user.is_authenticated:
        raise FhirError(401, "login", "Send an API token: 'Authorization: Bearer pal_...'. A clinic owner makes "
                                      "tokens under API tokens in Palpate, or with 'palpate token create'.",
                        headers={"WWW-Authenticate": 'Bearer realm="palpate"'})
    if request.method not in SAFE_METHODS:
        # Signed-in browsers may read; writes need a token, which a cross-site form cannot send.
        raise FhirError(403, "forbidden", "Writing through the FHIR API needs an API token with scope 'write'.")
    return actor


def json_body(request: HttpRequest) -> Any:
    content_type = (request.content_type or "").lower()
    if content_type not in ("application/fhir+json", "application/json"):
        raise FhirError(415, "not-supported", f"Send the resource as application/fhir+json (got {content_type or 'none'}).")
    if len(request.body) > MAX_BODY:
        raise FhirError(413, "too-costly", f"The body is over {MAX_BODY // (1024 * 1024)} MB.")
    try:
        return json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise FhirError(400, "structure", f"The body is not valid JSON: {exc}.") from None


def check_format(request: HttpRequest) -> None:
    wanted = request.GET.get("_format", "")
    accept = request.headers.get("Accept", "")
    if wanted and "json" not in wanted:
        raise FhirError(406, "not-supported", f"Palpate answers in JSON only; _format={wanted} is not available.")
    if accept and "json" not in accept and "*/*" not in accept and "application/pdf" not in accept \
            and "ndjson" not in accept:
        raise FhirError(406, "not-supported", "Palpate answers in JSON only: send Accept: application/fhir+json.")


View = Callable[..., HttpResponse]


def fhir_view(action: str) -> Callable[[View], View]:
    """A FHIR endpoint: the caller is worked out, errors become OperationOutcomes, the request is audited once."""

    def decorate(view: View) -> View:
        @csrf_exempt
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            ctx: Context | None = None
            try:
                check_format(request)
                actor = request_actor(request)
                ctx = Context(actor, base_url(request))
                response = view(request, ctx, *args, **kwargs)
            except FhirError as error:
                response = error_response(error)
            if ctx is not None:
                audit(request, ctx, getattr(response, "audit_action", action), response.status_code)
            return response

        return wrapper

    return decorate


def audit(request: HttpRequest, ctx: Context, action: str, status: int) -> None:
    """One row per request, like a chart read: which patients' data went out (none for a refusal)."""
    patients = sorted(ctx.patients) if status < 400 else []
    token = getattr(ctx.actor, "token", None)
    detail = {"method": request.method, "path": request.path[:300], "query": request.GET.urlencode()[:500],
              "status": status, "patients": patients,
              "patient_count": len(patients), "token": token.prefix if token else None}
    record_read(ctx.actor, action, patient_id=patients[0] if len(patients) == 1 else None,
                ip_address=client_ip(request), detail=detail)
