"""JSON API for appointments (django-ninja), on the same door and services as the pages.

Writes go through ``palpate.scheduling.services`` exactly as the pages and the FHIR API do. A
refusal is a 409 with ``{"detail", "code", "next_free"}``: ``detail`` says what is wrong in words,
``code`` is stable for programs (``in_the_past``, ``clinic_closed``, ``outside_opening_hours``,
``therapist_unavailable``, ``therapist_busy``, ``room_busy``, ``bad_time``, ``over_authorization``,
``invalid``, ``invalid_status``, ``reason_required``) and ``next_free`` is the next free slot when a
time was the problem. Times without a UTC offset are read in the clinic's time zone.
Other errors: 401 not signed in, 403 the role may not, 404 not in your clinic, 422 invalid body.
"""

import datetime as dt
from typing import Annotated, Any

from django.http import Http404
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import paginate

from palpate.audit.services import record_read
from palpate.clinics.http import AuthenticatedHttpRequest
from palpate.lib.converters import MAX_ID, PathId, QueryId
from palpate.lib.decorators import client_ip
from palpate.lib.pagination import BoundedPagination
from palpate.patients.access import access_episode, access_patient
from palpate.scheduling import calendar as cal
from palpate.scheduling import services
from palpate.scheduling.access import access_appointment, appointments_for
from palpate.scheduling.models import Appointment, AppointmentKind, AppointmentStatus, Authorization

router = Router(tags=["appointments"])


class AppointmentOut(Schema):
    id: int
    patient_id: int
    episode_id: int
    therapist_id: int
    room_id: int | None
    starts_at: dt.datetime
    ends_at: dt.datetime
    kind: str
    status: str
    status_changed_by_id: int | None
    status_changed_at: dt.datetime | None
    reason: str
    plan_id: int | None
    series_id: int | None
    visit_id: int | None


class SlotOut(Schema):
    therapist_id: int
    therapist: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    room_id: int | None


class RefusalOut(Schema):
    detail: str
    code: str
    next_free: SlotOut | None


class ErrorOut(Schema):
    detail: str


class BookIn(Schema):
    episode_id: int = Field(ge=1, le=MAX_ID)
    therapist_id: int = Field(ge=1, le=MAX_ID)
    starts_at: dt.datetime
    minutes: int | None = Field(None, ge=cal.MIN_MINUTES, le=cal.MAX_MINUTES)
    kind: AppointmentKind = AppointmentKind.TREATMENT
    room_id: int | None = Field(None, ge=1, le=MAX_ID)
    confirm_over_authorization: bool = False


class MoveIn(Schema):
    starts_at: dt.datetime
    minutes: int | None = Field(None, ge=cal.MIN_MINUTES, le=cal.MAX_MINUTES)
    therapist_id: int | None = Field(None, ge=1, le=MAX_ID)
    room_id: int | None = Field(None, ge=1, le=MAX_ID)
    kind: AppointmentKind | None = None


class ReasonIn(Schema):
    reason: str = Field(max_length=200)
    by_patient: bool = True


class VisitOut(Schema):
    visit_id: int
    appointment: AppointmentOut


class AuthorizationOut(Schema):
    id: int
    episode_id: int
    reference: str
    visits: int
    starts_on: dt.date
    ends_on: dt.date
    visits_used: int
    visits_booked: int


class AuthorizationIn(Schema):
    episode_id: int = Field(ge=1, le=MAX_ID)
    reference: str = Field(min_length=1, max_length=60)
    visits: int = Field(ge=1, le=365)
    starts_on: dt.date
    ends_on: dt.date


REFUSED = {409: RefusalOut, 403: ErrorOut, 404: ErrorOut}
FIRST_DAY, LAST_DAY = dt.date(cal.FIRST_YEAR, 1, 1), dt.date(cal.LAST_YEAR, 12, 31)


def _within(day: dt.date) -> dt.date:
    """A day inside the years a calendar holds: nothing is booked outside them, so clamping changes no answer."""
    return min(max(day, FIRST_DAY), LAST_DAY)


def _refused(error: services.SchedulingRefused) -> Status:
    return Status(409, error.as_json())


def _instant(request: AuthenticatedHttpRequest, moment: dt.datetime) -> dt.datetime:
    """An aware instant; a time without an offset is the clinic's wall clock."""
    if not cal.FIRST_YEAR <= moment.year <= cal.LAST_YEAR:
        raise services.BadTime(f"Enter a time between {cal.FIRST_YEAR} and {cal.LAST_YEAR}.")
    if moment.tzinfo is not None:
        return moment
    tz = services.zone(services.schedule_settings(request.actor.clinic))
    found = cal.instant(moment.date(), moment.time(), tz)
    if found is None:
        raise services.BadTime(f"{moment:%H:%M} does not exist on {moment:%Y-%m-%d} in {tz.key} (the clocks change).")
    return found


def _read(request: AuthenticatedHttpRequest, appointment: Appointment, action: str = "appointment.view.api") -> None:
    record_read(request.actor, action, patient_id=appointment.patient_id, obj=appointment, ip_address=client_ip(request))


@router.get("/appointments", response=list[AppointmentOut], url_name="appointment_list")
@paginate(BoundedPagination)
def list_appointments(request: AuthenticatedHttpRequest, start: dt.date | None = None, end: dt.date | None = None,
                      therapist_id: QueryId = None, patient_id: QueryId = None,
                      status: AppointmentStatus | None = None) -> Any:
    """Appointments of your clinic, by start time; ``start``/``end`` are days (inclusive) in the clinic's time zone."""
    actor = request.actor
    tz = services.zone(services.schedule_settings(actor.clinic))
    query = appointments_for(actor)
    start, end = (start and _within(start)), (end and _within(end))
    if start is not None:
        query = query.filter(starts_at__gte=cal.instant(start, dt.time(0), tz) or dt.datetime.combine(start, dt.time(0), tz))
    if end is not None:
        day = end + dt.timedelta(days=1)
        query = query.filter(starts_at__lt=cal.instant(day, dt.time(0), tz) or dt.datetime.combine(day, dt.time(0), tz))
    if therapist_id is not None:
        query = query.filter(therapist_id=therapist_id)
    if patient_id is not None:
        query = query.filter(patient_id=patient_id)
    if status is not None:
        query = query.filter(status=status)
    record_read(actor, "appointment.list.api", patient_id=patient_id, ip_address=client_ip(request),
                detail={"start": start, "end": end, "therapist": therapist_id, "patient": patient_id})
    return query.order_by("starts_at", "id")


@router.get("/appointments/{appointment_id}", response={200: AppointmentOut, 404: ErrorOut}, url_name="appointment_detail")
def get_appointment(request: AuthenticatedHttpRequest, appointment_id: PathId) -> Appointment:
    appointment = access_appointment(request.actor, appointment_id, related=())
    _read(request, appointment)
    return appointment


@router.post("/appointments", response={201: AppointmentOut, **REFUSED}, url_name="appointment_book")
def book(request: AuthenticatedHttpRequest, payload: BookIn) -> Status:
    """Book one appointment. 409 with the reason and the next free slot when it cannot be."""
    actor = request.actor
    services.check_can_schedule(actor)
    try:
        from palpate.patients.models import Episode

        episode = Episode.objects.get(clinic=actor.clinic, pk=payload.episode_id)
    except Episode.DoesNotExist:
        raise Http404("No such episode") from None
    settings = services.schedule_settings(actor.clinic)
    try:
        booking = services.Booking(episode=episode, therapist_id=payload.therapist_id,
                                   starts_at=_instant(request, payload.starts_at),
                                   minutes=payload.minutes or settings.minutes_for(payload.kind), kind=payload.kind,
                                   room_id=payload.room_id, confirm_over_authorization=payload.confirm_over_authorization)
        return Status(201, services.do_book(actor, booking))
    except services.SchedulingRefused as refused:
        return _refused(refused)


@router.post("/appointments/{appointment_id}/move", response={200: AppointmentOut, **REFUSED}, url_name="appointment_move")
def move(request: AuthenticatedHttpRequest, appointment_id: PathId, payload: MoveIn) -> Status:
    actor = request.actor
    appointment = access_appointment(actor, appointment_id, write=True)
    try:
        booking = services.Booking(
            episode=appointment.episode, therapist_id=payload.therapist_id or appointment.therapist_id,
            starts_at=_instant(request, payload.starts_at), minutes=payload.minutes or appointment.minutes,
            kind=payload.kind or appointment.kind,
            room_id=payload.room_id if "room_id" in payload.model_fields_set else appointment.room_id)
        return Status(200, services.do_move(actor, appointment, booking))
    except services.SchedulingRefused as refused:
        return _refused(refused)


@router.post("/appointments/{appointment_id}/cancel", response={200: AppointmentOut, **REFUSED}, url_name="appointment_cancel")
def cancel(request: AuthenticatedHttpRequest, appointment_id: PathId, payload: ReasonIn) -> Status:
    appointment = access_appointment(request.actor, appointment_id, write=True)
    try:
        return Status(200, services.do_cancel(request.actor, appointment, payload.reason, by_patient=payload.by_patient))
    except services.SchedulingRefused as refused:
        return _refused(refused)


@router.post("/appointments/{appointment_id}/check-in", response={200: AppointmentOut, **REFUSED}, url_name="appointment_check_in")
def check_in(request: AuthenticatedHttpRequest, appointment_id: PathId) -> Status:
    appointment = access_appointment(request.actor, appointment_id, write=True)
    try:
        return Status(200, services.do_check_in(request.actor, appointment))
    except services.SchedulingRefused as refused:
        return _refused(refused)


@router.post("/appointments/{appointment_id}/no-show", response={200: AppointmentOut, **REFUSED}, url_name="appointment_no_show")
def no_show(request: AuthenticatedHttpRequest, appointment_id: PathId, payload: ReasonIn) -> Status:
    appointment = access_appointment(request.actor, appointment_id, write=True)
    try:
        return Status(200, services.do_no_show(request.actor, appointment, payload.reason))
    except services.SchedulingRefused as refused:
        return _refused(refused)


@router.post("/appointments/{appointment_id}/start", response={200: VisitOut, **REFUSED}, url_name="appointment_start")
def start(request: AuthenticatedHttpRequest, appointment_id: PathId) -> Status:
    """Open (or reopen) the visit note for the appointment; it is completed when the note is signed."""
    appointment = access_appointment(request.actor, appointment_id, write=True)
    try:
        visit = services.do_start(request.actor, appointment)
    except services.SchedulingRefused as refused:
        return _refused(refused)
    appointment.refresh_from_db()
    return Status(200, {"visit_id": visit.pk, "appointment": appointment})


@router.post("/appointments/{appointment_id}/complete", response={200: AppointmentOut, **REFUSED}, url_name="appointment_complete")
def complete(request: AuthenticatedHttpRequest, appointment_id: PathId) -> Status:
    appointment = access_appointment(request.actor, appointment_id, write=True)
    try:
        return Status(200, services.do_complete(request.actor, appointment))
    except services.SchedulingRefused as refused:
        return _refused(refused)


@router.get("/schedule/next-free", response={200: SlotOut, 404: ErrorOut}, url_name="schedule_next_free")
def next_free(request: AuthenticatedHttpRequest, therapist_id: Annotated[int, Query(ge=1, le=MAX_ID)],
              minutes: Annotated[int, Query(ge=cal.MIN_MINUTES, le=cal.MAX_MINUTES)] = 45,
              after: dt.datetime | None = None, room_id: QueryId = None) -> Status:
    """The next free slot of ``minutes`` with the therapist (and room), from ``after`` (default now)."""
    actor = request.actor
    if not services.is_treating_member(actor.clinic.pk, therapist_id):
        raise Http404("No such therapist")
    from django.utils import timezone

    try:
        start = max(_instant(request, after), timezone.now()) if after else timezone.now()
    except services.SchedulingRefused:
        start = timezone.now()
    slot = services.next_free_slot(services.schedule_settings(actor.clinic), therapist_id, minutes, start,
                                   room_id=room_id)
    if slot is None:
        return Status(404, {"detail": "No free slot in the next six weeks."})
    return Status(200, slot.as_json())


@router.get("/patients/{patient_id}/appointments", response={200: list[AppointmentOut], 404: ErrorOut}, url_name="patient_appointments")
def patient_appointments(request: AuthenticatedHttpRequest, patient_id: PathId) -> Any:
    actor = request.actor
    patient = access_patient(actor, patient_id)
    record_read(actor, "appointment.list.api", patient_id=patient.pk, obj=patient, ip_address=client_ip(request))
    return appointments_for(actor).filter(patient=patient).order_by("-starts_at")[:500]


def _authorization_out(authorization: Authorization, tz: Any) -> dict[str, Any]:
    use = services.authorization_use(authorization, tz)
    return {"id": authorization.pk, "episode_id": authorization.episode_id, "reference": authorization.reference,
            "visits": authorization.visits, "starts_on": authorization.starts_on, "ends_on": authorization.ends_on,
            "visits_used": use.used, "visits_booked": use.booked}


@router.get("/patients/{patient_id}/authorizations", response={200: list[AuthorizationOut], 404: ErrorOut}, url_name="patient_authorizations")
def patient_authorizations(request: AuthenticatedHttpRequest, patient_id: PathId) -> Any:
    actor = request.actor
    patient = access_patient(actor, patient_id)
    record_read(actor, "authorization.list.api", patient_id=patient.pk, obj=patient, ip_address=client_ip(request))
    tz = services.zone(services.schedule_settings(actor.clinic))
    return [_authorization_out(a, tz) for a in Authorization.objects.filter(clinic=actor.clinic, patient=patient)[:100]]


@router.post("/patients/{patient_id}/authorizations", response={201: AuthorizationOut, **REFUSED}, url_name="patient_authorization_add")
def add_authorization(request: AuthenticatedHttpRequest, patient_id: PathId, payload: AuthorizationIn) -> Status:
    """Record a payer authorisation for one of the patient's episodes."""
    actor = request.actor
    patient = access_patient(actor, patient_id, write=True)
    episode = access_episode(actor, patient, payload.episode_id, write=True)
    try:
        authorization = services.do_add_authorization(actor, episode, payload.reference, payload.visits,
                                                      payload.starts_on, payload.ends_on)
    except services.SchedulingRefused as refused:
        return _refused(refused)
    return Status(201, _authorization_out(authorization, services.zone(services.schedule_settings(actor.clinic))))
