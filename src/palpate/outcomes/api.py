"""JSON API for outcome measures (django-ninja): same door, same core scores as the pages.

Errors: 401 not signed in, 403 the role may not read clinical data, 404 no such patient in your
clinic (including another clinic's).
"""

from __future__ import annotations

import datetime as dt

from ninja import Router, Schema, Status

from palpate.audit.services import record_read
from palpate.clinics.http import AuthenticatedHttpRequest
from palpate.clinics.roles import CLINICAL_VIEW
from palpate.core import measures
from palpate.core.errors import InputError
from palpate.lib.converters import PathId, QueryId
from palpate.lib.decorators import client_ip
from palpate.outcomes.models import OutcomeMeasurement
from palpate.patients.access import access_patient

router = Router(tags=["outcomes"])


class MeasurementOut(Schema):
    id: int
    episode_id: int
    visit_id: int | None
    instrument: str
    taken_on: dt.date
    valid: bool
    score: float | None
    scores: dict[str, float | None] | None
    band: str | None
    reason: str
    answers: list[int | None] | dict[str, list[int | None]]
    activities: list[str]


class ErrorOut(Schema):
    detail: str


def _band(m: OutcomeMeasurement) -> str | None:
    if m.score is None:
        return None
    try:
        band = measures.instrument(m.instrument).scale().band_for(m.score)
    except (InputError, KeyError):
        return None
    return band.label if band else None


@router.get("/patients/{patient_id}/outcomes", response={200: list[MeasurementOut], 403: ErrorOut, 404: ErrorOut})
def list_patient_outcomes(request: AuthenticatedHttpRequest, patient_id: PathId, episode_id: QueryId = None) -> object:
    """The patient's outcome measurements, oldest first, scored by the core when they were entered."""
    actor = request.actor
    patient = access_patient(actor, patient_id)
    if not actor.can(CLINICAL_VIEW):
        return Status(403, {"detail": "Your role in this clinic cannot read clinical records."})
    rows = OutcomeMeasurement.objects.filter(clinic_id=patient.clinic_id, patient=patient).order_by("taken_on", "id")
    if episode_id is not None:
        rows = rows.filter(episode_id=episode_id)
    record_read(actor, "outcomes.view.api", patient_id=patient.pk, obj=patient, ip_address=client_ip(request))
    return [{
        "id": m.pk, "episode_id": m.episode_id, "visit_id": m.visit_id, "instrument": m.instrument,
        "taken_on": m.taken_on, "valid": m.valid, "score": m.score, "scores": m.scores, "band": _band(m),
        "reason": m.reason, "answers": m.answers, "activities": m.activities or [],
    } for m in rows]
