"""API tokens on the JSON API (django-ninja): ``Authorization: Bearer pal_...`` instead of a session.

The token's actor becomes ``request.actor``, so every endpoint's door and permission checks apply
unchanged (cut down to the token's scope). A refused token is a 401 that says why; every use is
recorded in the audit trail (besides what the endpoint itself records).
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja.errors import HttpError
from ninja.security import HttpBearer

from palpate.audit.services import record_read
from palpate.interop.access import ScopedActor, TokenRefused, authenticate_token
from palpate.lib.decorators import client_ip


class ApiTokenAuth(HttpBearer):
    openapi_description = "An API token made by a clinic owner (Authorization: Bearer pal_...)"

    def authenticate(self, request: HttpRequest, token: str) -> ScopedActor:
        try:
            actor = authenticate_token(token, client_ip(request))
        except TokenRefused as refused:
            raise HttpError(401, refused.reason) from None
        request.actor = actor  # type: ignore[attr-defined]
        record_read(actor, "token.use", patient_id=None, ip_address=client_ip(request),
                    detail={"method": request.method, "path": request.path[:300], "token": actor.token.prefix
                            if actor.token else None})
        return actor
