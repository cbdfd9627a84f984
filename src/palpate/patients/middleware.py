"""Refused attempts on patient URLs go into the audit trail.

A member who asks for a patient page and gets a 403 (their role may not) or a 404 (no such record
in their clinic, which is also what another clinic's patient looks like) leaves an ``access.denied``
read in the trail of the clinic they were working in: the request came from there. The patient's
own clinic, if another, is not told: a 404 must not say the patient exists, and one clinic's trail
never names another's staff. The patient id is kept only when the patient is the actor's clinic's
(a role refused); the path (never the query string) says what was asked for.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from palpate.audit.services import record_read
from palpate.lib.decorators import client_ip
from palpate.patients.models import Patient

PATIENT_PATHS = ("/patients/", "/api/patients/")
DENIED = (403, 404)


class DeniedPatientAccessMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        actor = getattr(request, "actor", None)
        if response.status_code in DENIED and actor is not None and request.path.startswith(PATIENT_PATHS):
            record_read(actor, "access.denied", patient_id=self._own_patient(request, actor),
                        ip_address=client_ip(request),
                        detail={"method": request.method, "path": request.path[:300], "status": response.status_code})
        return response

    @staticmethod
    def _own_patient(request: HttpRequest, actor: object) -> int | None:
        match = getattr(request, "resolver_match", None)
        raw = (match.kwargs.get("pk") or match.kwargs.get("patient_id")) if match else None
        try:
            pk = int(str(raw))
        except (TypeError, ValueError):
            return None
        if not -(2**63) <= pk < 2**63:
            return None
        exists = Patient.objects.filter(pk=pk, clinic_id=actor.clinic.pk).exists()  # type: ignore[attr-defined]
        return pk if exists else None
