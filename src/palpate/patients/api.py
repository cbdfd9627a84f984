"""JSON API for patients and episodes (django-ninja). Same door, same services as the HTML views.

Errors: 401 not signed in, 403 the role may not do this, 404 no such patient in your clinic
(including another clinic's), 422 the payload failed validation (``{"detail": [...]}`` lists
each field and what to fix).
"""

from __future__ import annotations

import datetime as dt

from ninja import Field, Router, Schema, Status
from ninja.errors import ValidationError as NinjaValidationError
from ninja.pagination import paginate

from palpate.audit.services import record_read
from palpate.clinics.http import AuthenticatedHttpRequest
from palpate.lib.converters import PathId
from palpate.lib.decorators import client_ip
from palpate.lib.pagination import BoundedPagination
from palpate.patients import services
from palpate.patients.access import access_patient, patients_for
from palpate.patients.forms import EpisodeForm, PatientForm
from palpate.patients.models import Episode, Patient
from palpate.patients.search import search

router = Router(tags=["patients"])


class PatientOut(Schema):
    id: int
    record_number: str
    given_name: str
    family_name: str
    date_of_birth: dt.date
    sex: str
    phone: str
    email: str


class PatientIn(Schema):
    given_name: str
    family_name: str
    date_of_birth: dt.date
    sex: str
    record_number: str = ""
    phone: str = ""
    email: str = ""
    address: str = ""


class EpisodeOut(Schema):
    id: int
    condition: str
    body_region: str
    side: str
    diagnosis: str
    icd10_code: str
    onset_date: dt.date
    referral_source: str
    payer: str
    status: str = Field(description="active, on_hold or discharged (a signed discharge summary discharges)")
    opened_on: dt.date
    discharged_on: dt.date | None = None


class ErrorOut(Schema):
    detail: str


@router.get("/patients", response=list[PatientOut])
@paginate(BoundedPagination)
def list_patients(request: AuthenticatedHttpRequest, q: str = "") -> object:
    actor = request.actor
    record_read(actor, "patient.list.api", patient_id=None, ip_address=client_ip(request), detail={"query": q})
    # The same search as the patient list (palpate.patients.search).
    return search(patients_for(actor), q)


@router.post("/patients", response={201: PatientOut, 403: ErrorOut, 422: dict})
def create_patient(request: AuthenticatedHttpRequest, payload: PatientIn) -> Status:
    actor = request.actor
    services.check_can_write(actor)
    form = PatientForm(payload.dict(), clinic=actor.clinic)
    if not form.is_valid():
        raise NinjaValidationError(
            [{"loc": ["body", "payload", field], "msg": " ".join(errors)} for field, errors in form.errors.items()]
        )
    return Status(201, services.do_create_patient(actor, form.save(commit=False)))


@router.get("/patients/{patient_id}", response={200: PatientOut, 404: ErrorOut})
def get_patient(request: AuthenticatedHttpRequest, patient_id: PathId) -> Patient:
    actor = request.actor
    patient = access_patient(actor, patient_id)
    record_read(actor, "patient.view.api", patient_id=patient.pk, obj=patient, ip_address=client_ip(request))
    return patient


@router.get("/patients/{patient_id}/episodes", response={200: list[EpisodeOut], 404: ErrorOut})
def list_episodes(request: AuthenticatedHttpRequest, patient_id: PathId) -> object:
    actor = request.actor
    patient = access_patient(actor, patient_id)
    record_read(actor, "episode.list.api", patient_id=patient.pk, obj=patient, ip_address=client_ip(request))
    return Episode.objects.filter(clinic_id=patient.clinic_id, patient=patient)


class EpisodeIn(Schema):
    condition: str
    body_region: str
    side: str = ""
    diagnosis: str
    icd10_code: str
    onset_date: dt.date
    referral_source: str = ""
    payer: str
    payer_name: str = ""


@router.post("/patients/{patient_id}/episodes", response={201: EpisodeOut, 403: ErrorOut, 404: ErrorOut, 422: dict})
def create_episode(request: AuthenticatedHttpRequest, patient_id: PathId, payload: EpisodeIn) -> Status:
    """Open an episode of care. The condition must occur at the region and the ICD-10-CM code must be
    of the condition's family (``core.episodes``); otherwise 422, each problem naming what fits."""
    actor = request.actor
    patient = access_patient(actor, patient_id, write=True)
    services.check_can_write(actor)
    form = EpisodeForm(payload.dict())
    if not form.is_valid():
        raise NinjaValidationError(
            [{"loc": ["body", "payload", field], "msg": " ".join(errors)} for field, errors in form.errors.items()]
        )
    return Status(201, services.do_create_episode(actor, patient, form.save(commit=False)))
