"""The JSON API root: session or API-token authentication, one router per app, documented errors.

OpenAPI schema at /api/openapi.json, interactive docs at /api/docs: both for signed-in staff only.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from ninja import NinjaAPI
from ninja.security import SessionAuth

from palpate.interop.api import ApiTokenAuth


class ClinicMemberAuth(SessionAuth):
    """Signed in (and past two-factor, which the middleware enforces) and a member of a clinic."""

    def authenticate(self, request: HttpRequest, key: str | None) -> object:
        user = super().authenticate(request, key)
        if user is None or getattr(request, "actor", None) is None:
            return None
        return user


class PalpateAPI(NinjaAPI):
    def get_openapi_schema(self, *args: object, **kwargs: object) -> dict:  # type: ignore[override]
        """Document the errors every endpoint can give, so clients can rely on the schema:
        401 when the caller is not signed in, 422 when a parameter or body fails validation."""
        schema = super().get_openapi_schema(*args, **kwargs)  # type: ignore[arg-type]
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                responses = operation.setdefault("responses", {})
                if operation.get("parameters") or operation.get("requestBody"):
                    responses.setdefault(422, {
                        "description": "A parameter or the body is invalid; `detail` lists each problem and where",
                        "content": {"application/json": {"schema": {
                            "type": "object", "properties": {"detail": {"type": "array", "items": {"type": "object"}}},
                            "required": ["detail"]}}},
                    })
                responses.setdefault(401, {
                    "description": "Not signed in, session expired, or two-factor sign-in not completed",
                    "content": {"application/json": {"schema": {
                        "type": "object", "properties": {"detail": {"type": "string"}}, "required": ["detail"]}}},
                })
        return schema


def staff_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The schema and the docs are for signed-in clinic staff (two-factor passed: the middleware)."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            if request.path.endswith(".json"):
                return JsonResponse({"detail": "Not signed in"}, status=401)
            return redirect_to_login(request.get_full_path())
        if getattr(request, "actor", None) is None:
            raise PermissionDenied("Your account is not a member of any clinic.")
        return view(request, *args, **kwargs)

    return wrapper


# A bearer token (palpate.interop) or the signed-in session; a request with a bad token is refused,
# never let through on the session.
api = PalpateAPI(title="Palpate API", version="1", auth=[ApiTokenAuth(), ClinicMemberAuth()], urls_namespace="api",
                 docs_decorator=staff_only)


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
    return api.create_response(request, {"detail": "Not found"}, status=404)


@api.exception_handler(PermissionDenied)
def forbidden(request: HttpRequest, exc: Exception) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc) or "Forbidden"}, status=403)


def _register() -> None:
    from palpate.outcomes.api import router as outcomes_router
    from palpate.patients.api import router as patients_router
    from palpate.scheduling.api import router as scheduling_router

    api.add_router("/", patients_router)
    api.add_router("/", outcomes_router)
    api.add_router("/", scheduling_router)


_register()
