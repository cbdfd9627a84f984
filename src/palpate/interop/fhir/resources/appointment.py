"""Appointment: the clinic's schedule, read, searched and written through the scheduling services.

Every write goes through ``palpate.scheduling.services`` (``do_book``, ``do_move``, ``do_cancel``,
``do_check_in``, ``do_no_show``), the same functions the calendar and the JSON API call, so every
refusal the calendar makes is made here too: a time conflict (the therapist or room busy, the
clinic closed, outside opening or working hours, in the past, past the payer's authorisation, a
status that does not allow the change) is a 409, a request Palpate cannot read as a booking (a
therapist who is not a member, a length out of range, no reason for a cancellation) a 422. The
OperationOutcome carries the service's words, its stable refusal code, and the next free slot as a
second issue (words, and the ``next-free-slot`` extension with the period).

Mapping (R4 has fewer statuses than Palpate): booked -> booked, arrived -> arrived, in session ->
checked-in, completed -> fulfilled, cancelled and late cancellation -> cancelled (the
cancelationReason text says "Late cancellation" for the latter), no-show -> noshow (the reason in
``comment``). The kind (evaluation, treatment, re-evaluation, discharge) is ``appointmentType`` as
text only: no terminology in the knowledge base codes these, and none is made up. Rooms are not
exported: Palpate serves no Location resources. R4 allows only a ServiceRequest in ``basedOn``,
so the plan of care an appointment was booked from is in ``supportingInformation`` (with the
Encounter of the visit note started from it); ``basedOn`` is accepted on input too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet

from palpate.clinics.roles import PATIENT_VIEW
from palpate.interop.fhir.codes import extension_url, instant, palpate_coding, reference
from palpate.interop.fhir.context import Context
from palpate.interop.fhir.errors import FhirError, forbidden, invalid, not_found
from palpate.interop.fhir.registry import (
    Include,
    Param,
    Resource,
    ResourceType,
    Source,
    date_param,
    last_updated_param,
    patient_param,
    register,
)
from palpate.interop.fhir.resources.base import id_param
from palpate.interop.fhir.resources.clinical import PARTICIPATION, practitioner, status_param
from palpate.patients.access import patients_for
from palpate.patients.models import Episode, EpisodeStatus, Patient
from palpate.plans.models import PlanOfCare
from palpate.scheduling import calendar as cal
from palpate.scheduling import services
from palpate.scheduling.access import appointments_for
from palpate.scheduling.models import Appointment, AppointmentKind, AppointmentStatus

STATUS_OUT = {
    AppointmentStatus.BOOKED: "booked",
    AppointmentStatus.ARRIVED: "arrived",
    AppointmentStatus.IN_SESSION: "checked-in",
    AppointmentStatus.COMPLETED: "fulfilled",
    AppointmentStatus.CANCELLED: "cancelled",
    AppointmentStatus.LATE_CANCELLED: "cancelled",
    AppointmentStatus.NO_SHOW: "noshow",
}
STATUS_SEARCH = {code: Q(status__in=[s for s, c in STATUS_OUT.items() if c == code])
                 for code in dict.fromkeys(STATUS_OUT.values())}
# What a client may set the status to; checked-in and fulfilled follow the visit note in Palpate.
STATUS_CHANGES = ("arrived", "cancelled", "noshow")
LATE = "Late cancellation"
# Who cancelled, read (never written) from a client's cancelationReason: HL7's example code system
# (https://terminology.hl7.org/CodeSystem-appointment-cancellation-reason.html) files the patient's
# reasons under "pat" and "pat-..."; any other code of it (maintenance, medication, other...) is
# the clinic's side, so not a late cancellation. Without a coding the patient cancelled, as in
# Palpate's JSON API.
CANCELLATION_REASONS = "http://terminology.hl7.org/CodeSystem/appointment-cancellation-reason"

# Refusals that say the request itself is not a booking Palpate can read (422); every other refusal
# is the schedule as it is now saying no (409).
UNPROCESSABLE = (services.InvalidRequest, services.BadTime)
CONFLICT_CODES = ("therapist_busy", "room_busy")


# -- reading --------------------------------------------------------------------------------------------------


def _reason_text(appointment: Appointment) -> str:
    return appointment.reason or "no reason recorded"


def appointment_resource(ctx: Context, appointment: Appointment) -> Resource:
    kind = AppointmentKind(appointment.kind).label if appointment.kind in AppointmentKind.values else appointment.kind
    resource: Resource = {
        "resourceType": "Appointment",
        "id": str(appointment.pk),
        "meta": {"lastUpdated": instant(appointment.updated_at)},
        "status": STATUS_OUT.get(appointment.status, "booked"),
        "appointmentType": {"text": kind},
        "reasonReference": [reference("Condition", appointment.episode_id)],
        "start": instant(appointment.starts_at),
        "end": instant(appointment.ends_at),
        "minutesDuration": appointment.minutes,
        "created": instant(appointment.created_at),
        "participant": [
            {"actor": reference("Patient", appointment.patient_id, appointment.patient.full_name),
             "required": "required", "status": "accepted"},
            {"type": [{"coding": [{"system": PARTICIPATION, "code": "PPRF", "display": "primary performer"}]}],
             "actor": practitioner(appointment.therapist), "required": "required", "status": "accepted"},
        ],
    }
    if appointment.status == AppointmentStatus.LATE_CANCELLED:
        resource["cancelationReason"] = {"text": f"{LATE}: {_reason_text(appointment)}"}
    elif appointment.status == AppointmentStatus.CANCELLED:
        resource["cancelationReason"] = {"text": _reason_text(appointment)}
    elif appointment.status == AppointmentStatus.NO_SHOW:
        resource["comment"] = f"No-show: {_reason_text(appointment)}"
    supporting = []
    if appointment.plan_id:
        supporting.append(reference("CarePlan", appointment.plan_id))
    if appointment.visit_id:
        supporting.append(reference("Encounter", f"visit-{appointment.visit_id}"))
    if supporting:
        resource["supportingInformation"] = supporting
    return resource


def _appointments(ctx: Context) -> QuerySet[Any]:
    return Appointment.objects.filter(clinic_id=ctx.clinic_id).select_related("patient", "therapist")


def _practitioners(qs: QuerySet[Any], ids: list[str], source: Source) -> QuerySet[Any]:
    return qs.filter(therapist_id__in=[int(i) for i in ids if i.isdigit() and len(i) <= 18])


def _actors(kind: str) -> Any:
    def refs(resource: Resource) -> list[str]:
        return [p["actor"]["reference"] for p in resource["participant"]
                if p.get("actor", {}).get("reference", "").startswith(kind + "/")]

    return refs


# -- writing --------------------------------------------------------------------------------------------------


def _refused(ctx: Context, error: services.SchedulingRefused) -> FhirError:
    """The service's refusal as an OperationOutcome: its words and code, and the next free slot if any."""
    status = 422 if isinstance(error, UNPROCESSABLE) else 409
    issue_type = "processing" if status == 422 else "conflict" if error.code in CONFLICT_CODES else "business-rule"
    issues = []
    slot = error.next_free
    if slot is not None:
        tz = services.zone(services.schedule_settings(ctx.clinic))
        issues.append({
            "severity": "information", "code": "informational",
            "diagnostics": f"The next free slot: {cal.words(slot.starts_at, tz)}-{cal.words(slot.ends_at, tz, False)} "
                           f"with {slot.therapist_name} (start {instant(slot.starts_at)}, end {instant(slot.ends_at)}).",
            "extension": [{"url": extension_url("next-free-slot"),
                           "valuePeriod": {"start": instant(slot.starts_at), "end": instant(slot.ends_at)}}],
        })
    if isinstance(error, services.OverAuthorization):
        # The calendar lets a person confirm that the payer agreed; a system cannot, so it is said where.
        issues.append({"severity": "information", "code": "informational",
                       "diagnostics": "Booking past the payer's authorisation needs a person to confirm that the payer "
                                      "agreed: book it in Palpate's calendar."})
    details = {"coding": [palpate_coding("scheduling-refusal", error.code)], "text": error.message}
    return FhirError(status, issue_type, error.message, issues=issues, details=details)


def _find(ctx: Context, resource_id: str) -> Appointment:
    """The caller's clinic's appointment, or the 404 an unknown one gets (the same for another clinic's)."""
    pk = int(resource_id) if resource_id.isdigit() and len(resource_id) <= 18 else None
    found = appointments_for(ctx.actor).select_related("patient", "therapist", "episode").filter(pk=pk).first() \
        if pk is not None else None
    if found is None:
        raise not_found("Appointment", resource_id)
    return found


def _check_can_schedule(ctx: Context) -> None:
    try:
        services.check_can_schedule(ctx.actor)
    except PermissionDenied:
        raise forbidden("Your role (or your token's scope) does not allow changing the schedule. A token with scope "
                        "'write' for a member who may book appointments is needed.") from None


def _ref_id(value: Any, kind: str) -> str | None:
    """The id of a ``kind/id`` reference (relative or absolute), or None if it refers to something else."""
    ref = str((value or {}).get("reference") or "") if isinstance(value, dict) else ""
    head, _, rid = ref.rpartition("/")
    return rid if head.rsplit("/", 1)[-1] == kind and rid else None


def _participants(body: Resource, kind: str) -> list[str]:
    return [rid for p in body.get("participant") or [] if (rid := _ref_id(p.get("actor"), kind)) is not None]


def _moment(raw: Any, element: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        raise invalid(f"Appointment.{element} {raw!r} is not an instant (e.g. 2027-03-02T15:00:00Z).",
                      [f"Appointment.{element}"]) from None
    if not cal.FIRST_YEAR <= moment.year <= cal.LAST_YEAR:
        raise invalid(f"Appointment.{element}: give a time between {cal.FIRST_YEAR} and {cal.LAST_YEAR}.",
                      [f"Appointment.{element}"])
    if moment.tzinfo is None:
        raise invalid(f"Appointment.{element} needs its UTC offset (an instant, e.g. 2027-03-02T15:00:00Z).",
                      [f"Appointment.{element}"])
    return moment


def _kind(body: Resource, default: str) -> str:
    concept = body.get("appointmentType")
    if not concept:
        return default
    words = [str(concept.get("text") or "")] + [str(c.get("display") or c.get("code") or "")
                                                for c in concept.get("coding") or []]
    for word in words:
        for value, label in AppointmentKind.choices:
            if word.strip().lower() in (value, label.lower()):
                return value
    raise invalid("Appointment.appointmentType.text must name the kind of appointment: "
                  f"{', '.join(AppointmentKind.labels)}.", ["Appointment.appointmentType"])


def _times(ctx: Context, body: Resource, kind: str, default_minutes: int | None) -> tuple[dt.datetime, int]:
    if not body.get("start"):
        raise invalid("Appointment.start is required: when the appointment begins.", ["Appointment.start"])
    start = _moment(body["start"], "start")
    if body.get("end"):
        seconds = (_moment(body["end"], "end") - start).total_seconds()
        if seconds <= 0 or seconds % 60:
            raise invalid("Appointment.end must be whole minutes after Appointment.start.", ["Appointment.end"])
        return start, int(seconds // 60)
    if body.get("minutesDuration"):
        return start, int(body["minutesDuration"])
    if default_minutes is not None:
        return start, default_minutes
    return start, services.schedule_settings(ctx.clinic).minutes_for(kind)


def _therapist(body: Resource, current: int | None = None) -> int:
    ids = _participants(body, "Practitioner")
    if not ids:
        if current is not None:
            return current
        raise invalid("Appointment.participant needs the therapist: an actor Practitioner/<id> "
                      "(search Practitioner for the ids).", ["Appointment.participant"])
    if len(ids) > 1 or not ids[0].isdigit() or len(ids[0]) > 18:
        raise invalid("Appointment.participant: name exactly one Practitioner (the therapist) by id.",
                      ["Appointment.participant"])
    return int(ids[0])


def _patient(ctx: Context, body: Resource) -> Patient:
    ids = _participants(body, "Patient")
    patient = None
    if len(ids) == 1 and ids[0].isdigit() and len(ids[0]) <= 18:
        patient = patients_for(ctx.actor).filter(pk=int(ids[0])).first()  # type: ignore[arg-type]
    if patient is None:
        # The same words for a patient that does not exist and one of another clinic.
        raise invalid("Appointment.participant needs exactly one patient of your clinic: an actor Patient/<id>.",
                      ["Appointment.participant"])
    return patient


def _episode(ctx: Context, body: Resource, patient: Patient) -> Episode:
    named = [rid for item in body.get("reasonReference") or [] if (rid := _ref_id(item, "Condition")) is not None]
    episodes = Episode.objects.filter(clinic_id=ctx.clinic_id, patient=patient)
    if named:
        episode = episodes.filter(pk=int(named[0])).first() if named[0].isdigit() and len(named[0]) <= 18 else None
        if episode is None:
            raise invalid(f"Appointment.reasonReference Condition/{named[0]} is not an episode of this patient.",
                          ["Appointment.reasonReference"])
        return episode
    active = list(episodes.filter(status=EpisodeStatus.ACTIVE)[:2])
    if len(active) == 1:
        return active[0]
    problem = "has no active episode of care: open one (POST a Condition) first" if not active else \
        "has several active episodes of care: say which with reasonReference Condition/<id>"
    raise invalid(f"The patient {problem}.", ["Appointment.reasonReference"])


def _plan(ctx: Context, body: Resource) -> PlanOfCare | None:
    refs = [*(body.get("supportingInformation") or []), *(body.get("basedOn") or [])]
    named = [rid for item in refs if (rid := _ref_id(item, "CarePlan")) is not None]
    if not named:
        return None
    plan = PlanOfCare.objects.filter(clinic_id=ctx.clinic_id, pk=int(named[0])).first() \
        if named[0].isdigit() and len(named[0]) <= 18 else None
    if plan is None:
        raise invalid(f"CarePlan/{named[0]} is not a plan of care of your clinic.", ["Appointment.supportingInformation"])
    return plan


def _reason(body: Resource, *elements: str) -> str:
    for element in elements:
        value = body.get(element)
        if isinstance(value, dict):
            value = value.get("text") or next((c.get("display") for c in value.get("coding") or []
                                               if c.get("display")), "")
        if value:
            return str(value).removeprefix(f"{LATE}: ").removeprefix("No-show: ")
    return ""


def _by_patient(body: Resource) -> bool:
    codes = [str(c.get("code") or "") for c in (body.get("cancelationReason") or {}).get("coding") or []
             if c.get("system") == CANCELLATION_REASONS]
    return not codes or any(code == "pat" or code.startswith("pat-") for code in codes)


def create_appointment(ctx: Context, body: Resource) -> Resource:
    from palpate.interop.fhir.writes import check_structure

    _check_can_schedule(ctx)
    check_structure("Appointment", body)
    if body.get("status") != "booked":
        raise invalid(f"A new appointment's status must be 'booked' (not {body.get('status')!r}): Palpate books "
                      "appointments directly.", ["Appointment.status"])
    patient = _patient(ctx, body)
    kind = _kind(body, AppointmentKind.TREATMENT)
    start, minutes = _times(ctx, body, kind, None)
    booking = services.Booking(episode=_episode(ctx, body, patient), therapist_id=_therapist(body), starts_at=start,
                               minutes=minutes, kind=kind, plan=_plan(ctx, body))
    try:
        appointment = services.do_book(ctx.actor, booking)
    except services.SchedulingRefused as refused:
        raise _refused(ctx, refused) from None
    except PermissionDenied as denied:
        raise forbidden(str(denied)) from None
    ctx.saw(patient.pk)
    return appointment_resource(ctx, _find(ctx, str(appointment.pk)))


def update_appointment(ctx: Context, resource_id: str, body: Resource) -> Resource:
    from palpate.interop.fhir.writes import check_structure

    appointment = _find(ctx, resource_id)
    _check_can_schedule(ctx)
    check_structure("Appointment", body)
    if body.get("id") not in (None, resource_id):
        raise invalid(f"The body's id {body.get('id')!r} is not the id in the URL ({resource_id}).", ["Appointment.id"],
                      status=400)
    patients = _participants(body, "Patient")
    if patients and patients != [str(appointment.patient_id)]:
        raise invalid("An appointment cannot be given to another patient: cancel it and book one for them.",
                      ["Appointment.participant"])
    status = body.get("status")
    kind = _kind(body, appointment.kind)
    start, minutes = _times(ctx, body, kind, appointment.minutes)
    therapist_id = _therapist(body, appointment.therapist_id)
    # Compared as exported (to the millisecond), so a body read back unchanged is unchanged.
    moved = (instant(start) != instant(appointment.starts_at) or minutes != appointment.minutes
             or therapist_id != appointment.therapist_id or kind != appointment.kind)
    changed = status != STATUS_OUT.get(appointment.status)
    if moved and changed:
        raise invalid("Change the time (or therapist, or kind) or the status, one at a time: send two updates.",
                      ["Appointment.status"])
    if changed and status not in STATUS_CHANGES:
        raise invalid(f"Through the API an appointment's status can change to {', '.join(STATUS_CHANGES)}; "
                      f"'{status}' follows the visit note in Palpate (checked-in when it is started, fulfilled "
                      "when it is signed).", ["Appointment.status"])
    ctx.saw(appointment.patient_id)
    try:
        if moved:
            booking = services.Booking(episode=appointment.episode, therapist_id=therapist_id, starts_at=start,
                                       minutes=minutes, kind=kind, room_id=appointment.room_id)
            services.do_move(ctx.actor, appointment, booking)
        elif not changed:
            pass  # the appointment as it is: nothing to do
        elif status == "arrived":
            services.do_check_in(ctx.actor, appointment)
        elif status == "cancelled":
            services.do_cancel(ctx.actor, appointment, _reason(body, "cancelationReason", "comment"),
                               by_patient=_by_patient(body))
        else:  # noshow
            services.do_no_show(ctx.actor, appointment, _reason(body, "comment", "cancelationReason"))
    except services.SchedulingRefused as refused:
        raise _refused(ctx, refused) from None
    except PermissionDenied as denied:
        raise forbidden(str(denied)) from None
    return appointment_resource(ctx, _find(ctx, resource_id))


def cancel_appointment(ctx: Context, resource_id: str, params: Mapping[str, str]) -> None:
    appointment = _find(ctx, resource_id)
    _check_can_schedule(ctx)
    ctx.saw(appointment.patient_id)
    if STATUS_OUT.get(appointment.status) == "cancelled":
        return  # cancelling twice changes nothing (DELETE is idempotent)
    reason = params.get("reason", "")
    if not reason.strip():
        raise invalid("Say why the appointment is cancelled: DELETE /fhir/R4/Appointment/<id>?reason=<a few words>, "
                      "or PUT it with status 'cancelled' and cancelationReason.text.", ["reason"])
    try:
        services.do_cancel(ctx.actor, appointment, reason)
    except services.SchedulingRefused as refused:
        raise _refused(ctx, refused) from None


@register
class AppointmentType(ResourceType):
    name = "Appointment"
    permission = PATIENT_VIEW
    description = ("The schedule: booked, moved, cancelled, checked in and marked no-show through the same services "
                   "as Palpate's calendar (a refused change is a 409 or 422 with the reason and the next free slot); "
                   "DELETE cancels (?reason=...)")
    patient_compartment = True
    interactions = ("read", "search-type", "create", "update", "delete")
    search_params = {
        "_id": id_param(),
        "_lastUpdated": last_updated_param(),
        "patient": patient_param(),
        "practitioner": Param("reference", "the therapist (Practitioner/123 or 123)", db=_practitioners,
                              target="Practitioner"),
        "date": date_param("when the appointment starts (ge, le, gt, lt ... prefixes)"),
        "status": status_param("the appointment's status", STATUS_SEARCH),
    }
    includes = {
        "Appointment:patient": Include("Patient", _actors("Patient")),
        "Appointment:practitioner": Include("Practitioner", _actors("Practitioner")),
    }

    def sources(self) -> list[Source]:
        return [Source("", _appointments, appointment_resource, date="starts_at", order=("-starts_at", "-pk"))]

    def create(self, ctx: Context, body: Resource) -> Resource:
        return create_appointment(ctx, body)

    def update(self, ctx: Context, resource_id: str, body: Resource) -> Resource:
        return update_appointment(ctx, resource_id, body)

    def delete(self, ctx: Context, resource_id: str, params: Mapping[str, str]) -> None:
        cancel_appointment(ctx, resource_id, params)
