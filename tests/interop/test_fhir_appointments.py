"""Appointment in the FHIR API: read and search, and create, update and cancel through the scheduling
services, so every refusal of the calendar (overlap, outside hours, closure, the past, the payer's
authorisation) comes back as an OperationOutcome with the service's words and the next free slot.

The API books against the real clock, so the tests book on a working day a week or more ahead
(``open_day``), which the clinic's calendar (New York, US holidays) keeps open.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from urllib.parse import parse_qsl

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from palpate.audit.models import AuditEvent
from palpate.interop.fhir.registry import REGISTRY
from palpate.scheduling import services
from palpate.scheduling.models import Appointment, AppointmentStatus, Authorization, Closure
from tests.scheduling.conftest import NEW_YORK, open_clinic

pytestmark = pytest.mark.django_db

NEXT_FREE = "https://palpate.org/fhir/StructureDefinition/next-free-slot"
REFUSAL_SYSTEM = "https://palpate.org/fhir/CodeSystem/scheduling-refusal"


def body(response) -> dict:  # noqa: ANN001
    return json.loads(response.content)


def issues(response) -> list[dict]:  # noqa: ANN001
    data = body(response)
    assert data["resourceType"] == "OperationOutcome", data
    return data["issue"]


def refusal_code(response) -> str:  # noqa: ANN001
    return issues(response)[0]["details"]["coding"][0]["code"]


def next_free(response) -> dict:  # noqa: ANN001
    """The next free slot the OperationOutcome offers (its Period)."""
    offered = [e["valuePeriod"] for i in issues(response) for e in i.get("extension", []) if e["url"] == NEXT_FREE]
    assert len(offered) == 1, issues(response)
    return offered[0]


def utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def open_day(settings, weeks_ahead: int = 1) -> dt.date:  # noqa: ANN001
    """A weekday at least ``weeks_ahead`` weeks from today that is no public holiday."""
    day = timezone.now().astimezone(NEW_YORK).date() + dt.timedelta(weeks=weeks_ahead)
    closed = services.closed_days(settings, day, day + dt.timedelta(days=30))
    while day.weekday() >= 5 or day in closed:
        day += dt.timedelta(days=1)
    return day


def at(day: dt.date, time: str) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.fromisoformat(time), NEW_YORK)


def appointment_body(patient_id: int, therapist_id: int, start: dt.datetime, minutes: int | None = None,
                     **changes) -> dict:  # noqa: ANN003
    resource = {"resourceType": "Appointment", "status": "booked", "start": utc(start),
                "participant": [{"actor": {"reference": f"Patient/{patient_id}"}, "status": "accepted"},
                                {"actor": {"reference": f"Practitioner/{therapist_id}"}, "status": "accepted"}]}
    if minutes:
        resource["end"] = utc(start + dt.timedelta(minutes=minutes))
    resource.update(changes)
    return resource


@pytest.fixture
def day(world) -> dt.date:  # noqa: ANN001
    settings = open_clinic(world.harbor)
    open_clinic(world.summit)
    return open_day(settings)


@pytest.fixture
def writer(world, make_token, fhir):  # noqa: ANN001, ANN201
    """Fran at the front desk, with a write token (front desk may book, not read clinical records)."""
    return fhir(make_token(world.fran, "write"))


def put(api, path: str, resource: dict):  # noqa: ANN001, ANN201
    return api._seen(api.client.put(f"/fhir/R4/{path}", json.dumps(resource), content_type="application/fhir+json",
                                    **api._headers({})))


def book(world, start: dt.datetime, minutes: int = 45, patient=None, episode=None, **kwargs) -> Appointment:  # noqa: ANN001, ANN003
    """An appointment booked through the services, as the calendar would."""
    from palpate.clinics.actor import Actor
    from palpate.clinics.models import Membership

    actor = Actor.of(Membership.objects.get(user=world.fran, clinic=world.harbor))
    return services.do_book(actor, services.Booking(episode=episode or world.harbor_episode, therapist_id=world.alice.pk,
                                                    starts_at=start, minutes=minutes, **kwargs))


def on_the_books(world, starts_at: dt.datetime, status: str = AppointmentStatus.BOOKED, **kwargs) -> Appointment:  # noqa: ANN001, ANN003
    """An appointment row put straight into the database (for times the services would not book now: today)."""
    fields = {"clinic": world.harbor, "patient": world.harbor_patient, "episode": world.harbor_episode,
              "therapist": world.alice, "booked_by": world.fran, **kwargs}
    return Appointment.objects.create(starts_at=starts_at, ends_at=starts_at + dt.timedelta(minutes=45), status=status,
                                      **fields)


def summit_appointment(world, start: dt.datetime) -> Appointment:  # noqa: ANN001
    from palpate.patients.models import Episode

    episode = Episode.objects.create(clinic=world.summit, patient=world.summit_patient, condition="neck_pain",
                                     body_region="neck", diagnosis="Cervicalgia", icd10_code="M54.2",
                                     onset_date=dt.date(2026, 10, 1), opened_on=dt.date(2026, 10, 2),
                                     payer="self_pay")
    return Appointment.objects.create(clinic=world.summit, patient=world.summit_patient, episode=episode,
                                      therapist=world.charlie, booked_by=world.charlie, starts_at=start,
                                      ends_at=start + dt.timedelta(minutes=45))


# -- create and read --------------------------------------------------------------------------------------------


def test_it_books_through_the_scheduling_services_audits_and_reads_it_back(world, day, writer):
    start = at(day, "10:00")
    response = writer.post("Appointment", appointment_body(world.harbor_patient.pk, world.alice.pk, start,
                                                           appointmentType={"text": "Evaluation"}))
    assert response.status_code == 201, response.content
    created = body(response)
    appointment = Appointment.objects.get(pk=created["id"])
    assert (appointment.starts_at, appointment.kind, appointment.status) == (start, "evaluation", "booked")
    assert appointment.minutes == 60  # the clinic's evaluation length: no end given
    assert appointment.episode == world.harbor_episode and appointment.booked_by == world.fran
    assert response["Location"].endswith(f"/fhir/R4/Appointment/{appointment.pk}")
    assert AuditEvent.objects.filter(action="appointment.book", patient_id=world.harbor_patient.pk,
                                     actor_id=world.fran.pk).exists()
    assert AuditEvent.objects.filter(action="fhir.create", patient_id=world.harbor_patient.pk).exists()
    read = body(writer.get(f"Appointment/{appointment.pk}"))
    assert read == created
    assert (read["status"], read["start"], read["end"], read["minutesDuration"]) == (
        "booked", utc(start), utc(start + dt.timedelta(minutes=60)), 60)
    assert read["appointmentType"] == {"text": "Evaluation"}  # text only: no terminology codes the kinds
    assert read["reasonReference"] == [{"reference": f"Condition/{world.harbor_episode.pk}"}]
    assert [p["actor"]["reference"] for p in read["participant"]] == [
        f"Patient/{world.harbor_patient.pk}", f"Practitioner/{world.alice.pk}"]


def test_a_booking_from_the_plan_of_care_names_it_and_a_visit_links_both_ways(clinical_world, make_token, fhir):
    w = clinical_world.world
    plan, visit = clinical_world.plan, clinical_world.visit
    appointment = on_the_books(w, timezone.now() - dt.timedelta(days=30), AppointmentStatus.COMPLETED, plan=plan,
                               visit=visit)
    api = fhir(make_token(w.alice))
    read = body(api.get(f"Appointment/{appointment.pk}"))
    assert read["status"] == "fulfilled"
    assert read["supportingInformation"] == [{"reference": f"CarePlan/{plan.pk}"},
                                             {"reference": f"Encounter/visit-{visit.pk}"}]
    encounter = body(api.get(f"Encounter/visit-{visit.pk}"))
    assert encounter["appointment"] == [{"reference": f"Appointment/{appointment.pk}"}]


def test_a_create_that_names_the_plan_books_it_from_the_plan(world, day, writer):
    from palpate.plans.models import PlanOfCare

    plan = PlanOfCare.objects.create(clinic=world.harbor, patient=world.harbor_patient, episode=world.harbor_episode,
                                     created_by=world.alice, start_date=day)
    resource = appointment_body(world.harbor_patient.pk, world.alice.pk, at(day, "11:00"), 45,
                                basedOn=[{"reference": f"CarePlan/{plan.pk}"}])
    response = writer.post("Appointment", resource)
    assert response.status_code == 201, response.content
    assert Appointment.objects.get(pk=body(response)["id"]).plan == plan
    assert body(response)["supportingInformation"] == [{"reference": f"CarePlan/{plan.pk}"}]


@pytest.mark.parametrize("status, fhir_status", [
    (AppointmentStatus.BOOKED, "booked"), (AppointmentStatus.ARRIVED, "arrived"),
    (AppointmentStatus.IN_SESSION, "checked-in"), (AppointmentStatus.COMPLETED, "fulfilled"),
    (AppointmentStatus.CANCELLED, "cancelled"), (AppointmentStatus.LATE_CANCELLED, "cancelled"),
    (AppointmentStatus.NO_SHOW, "noshow"),
])
def test_each_status_maps_to_fhir_and_says_why_it_was_cancelled_or_missed(world, writer, status, fhir_status):
    appointment = on_the_books(world, timezone.now() + dt.timedelta(days=3), status, reason="Car broke down")
    read = body(writer.get(f"Appointment/{appointment.pk}"))
    assert read["status"] == fhir_status
    if status == AppointmentStatus.LATE_CANCELLED:
        assert read["cancelationReason"] == {"text": "Late cancellation: Car broke down"}
    elif status == AppointmentStatus.CANCELLED:
        assert read["cancelationReason"] == {"text": "Car broke down"}
    elif status == AppointmentStatus.NO_SHOW:
        assert read["comment"] == "No-show: Car broke down"
    else:
        assert "cancelationReason" not in read and "comment" not in read


# -- search -----------------------------------------------------------------------------------------------------


def test_search_filters_by_patient_practitioner_date_and_status_and_pages_with_includes(world, day, writer):
    first, second, third = (book(world, at(day + dt.timedelta(days=7 * n), "10:00")) for n in range(3))
    third.status, third.reason = AppointmentStatus.CANCELLED, "Away"
    third.save()
    summit_appointment(world, at(day, "10:00"))

    def ids(**params) -> list[str]:  # noqa: ANN003
        response = writer.get("Appointment", **params)
        assert response.status_code == 200, response.content
        return [e["resource"]["id"] for e in body(response).get("entry", []) if e["search"]["mode"] == "match"]

    every = [str(a.pk) for a in (third, second, first)]  # latest first
    assert ids() == every  # nothing of Summit's
    assert ids(patient=f"Patient/{world.harbor_patient.pk}") == every
    assert ids(patient=str(world.summit_patient.pk)) == []
    assert ids(practitioner=f"Practitioner/{world.alice.pk}") == every
    assert ids(practitioner=str(world.dana.pk)) == []
    assert ids(date=day.isoformat()) == [str(first.pk)]
    assert ids(date=f"ge{(day + dt.timedelta(days=1)).isoformat()}") == [str(third.pk), str(second.pk)]
    assert ids(date=f"gt{day.isoformat()}") == [str(third.pk), str(second.pk)]
    assert ids(date=f"le{day.isoformat()}") == [str(first.pk)]
    assert ids(date=f"lt{(day + dt.timedelta(days=7)).isoformat()}") == [str(first.pk)]
    assert ids(status="booked") == [str(second.pk), str(first.pk)]
    assert ids(status="cancelled,noshow") == [str(third.pk)]

    page = body(writer.get("Appointment", _count="2", status="booked,cancelled"))
    assert page["total"] == 3 and len(page["entry"]) == 2
    following = next(link["url"] for link in page["link"] if link["relation"] == "next")
    path, _, query = following.partition("/fhir/R4/")[2].partition("?")
    rest = body(writer.get(path, **dict(parse_qsl(query))))
    assert [e["resource"]["id"] for e in rest["entry"]] == [str(first.pk)]

    bundle = body(writer.get("Appointment", date=day.isoformat(),
                             _include=["Appointment:patient", "Appointment:practitioner"]))
    included = {f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in bundle["entry"]
                if e["search"]["mode"] == "include"}
    assert included == {f"Patient/{world.harbor_patient.pk}", f"Practitioner/{world.alice.pk}"}


def test_a_malformed_search_says_what_to_fix(world, writer):
    response = writer.get("Appointment", date="next-tuesday")
    assert response.status_code == 400 and "is not a date" in issues(response)[0]["diagnostics"]


# -- refusals ---------------------------------------------------------------------------------------------------


def test_an_overlapping_booking_is_a_409_with_the_services_words_and_the_next_free_slot(world, day, writer):
    book(world, at(day, "10:00"))
    response = writer.post("Appointment", appointment_body(world.harbor_patient.pk, world.alice.pk,
                                                           at(day, "10:15"), 45))
    assert response.status_code == 409
    error = issues(response)[0]
    assert error["code"] == "conflict" and refusal_code(response) == "therapist_busy"
    assert "Alice already has an appointment at" in error["diagnostics"]
    assert next_free(response) == {"start": utc(at(day, "10:45")), "end": utc(at(day, "11:30"))}
    assert "The next free slot:" in issues(response)[1]["diagnostics"]
    assert Appointment.objects.count() == 1


@pytest.mark.parametrize("case, code", [
    ("outside hours", "outside_opening_hours"),
    ("closure", "clinic_closed"),
    ("past", "in_the_past"),
    ("authorisation", "over_authorization"),
])
def test_each_refusal_of_the_calendar_is_refused_here_with_its_reason(world, day, writer, case, code):
    start = at(day, "10:00")
    if case == "outside hours":
        start = at(day, "19:00")
    elif case == "closure":
        Closure.objects.create(clinic=world.harbor, starts_on=day, ends_on=day, reason="Staff training")
    elif case == "past":
        start = timezone.now() - dt.timedelta(days=2)
    else:
        Authorization.objects.create(clinic=world.harbor, patient=world.harbor_patient, episode=world.harbor_episode,
                                     reference="AUTH-1", visits=6, starts_on=day - dt.timedelta(days=60),
                                     ends_on=day - dt.timedelta(days=1), created_by=world.olivia)
    response = writer.post("Appointment", appointment_body(world.harbor_patient.pk, world.alice.pk, start, 45))
    assert response.status_code == 409, response.content
    assert refusal_code(response) == code
    assert issues(response)[0]["code"] == "business-rule"
    if case == "authorisation":
        assert "book it in Palpate's calendar" in issues(response)[-1]["diagnostics"]
    else:
        assert next_free(response)["start"] > utc(timezone.now())
    assert not Appointment.objects.exists()


@pytest.mark.parametrize("changes, words", [
    ({"status": "proposed"}, "status must be 'booked'"),
    ({"participant": [{"actor": {"reference": "Practitioner/1"}, "status": "accepted"}]},
     "needs exactly one patient of your clinic"),
    ({"appointmentType": {"text": "Massage party"}}, "must name the kind of appointment"),
    ({"reasonReference": [{"reference": "Condition/999999"}]}, "is not an episode of this patient"),
    ({"minutesDuration": 600, "end": None}, "An appointment lasts 5 minutes to 8 hours"),
])
def test_a_body_palpate_cannot_book_is_a_422_that_says_what_to_fix(world, day, writer, changes, words):
    resource = appointment_body(world.harbor_patient.pk, world.alice.pk, at(day, "10:00"), 45, **changes)
    resource = {k: v for k, v in resource.items() if v is not None}
    response = writer.post("Appointment", resource)
    assert response.status_code == 422, response.content
    assert words in issues(response)[0]["diagnostics"]
    assert not Appointment.objects.exists()


def test_a_therapist_of_another_clinic_cannot_be_booked(world, day, writer):
    response = writer.post("Appointment", appointment_body(world.harbor_patient.pk, world.charlie.pk,
                                                           at(day, "10:00"), 45))
    assert response.status_code == 422 and "Choose a therapist of this clinic" in issues(response)[0]["diagnostics"]


def test_an_invalid_fhir_body_is_a_400(world, writer):
    response = writer.post("Appointment", {"resourceType": "Appointment", "status": "booked", "start": "tomorrow"})
    assert response.status_code == 400 and "Not a valid FHIR R4 Appointment" in issues(response)[0]["diagnostics"]


# -- update and cancel ----------------------------------------------------------------------------------------------


def test_a_put_with_another_time_moves_it_through_the_services(world, day, writer):
    appointment = book(world, at(day, "10:00"))
    resource = body(writer.get(f"Appointment/{appointment.pk}"))
    moved = {**resource, "start": utc(at(day, "14:00")), "end": utc(at(day, "14:45"))}
    moved.pop("minutesDuration")
    response = put(writer, f"Appointment/{appointment.pk}", moved)
    assert response.status_code == 200, response.content
    appointment.refresh_from_db()
    assert appointment.starts_at == at(day, "14:00")
    assert body(response)["start"] == utc(at(day, "14:00"))
    assert AuditEvent.objects.filter(action="appointment.move", patient_id=world.harbor_patient.pk).exists()
    assert AuditEvent.objects.filter(action="fhir.update").exists()
    # Moving onto another appointment is refused like a booking, with the next free slot.
    book(world, at(day, "16:00"))
    clash = put(writer, f"Appointment/{appointment.pk}", {**moved, "start": utc(at(day, "16:00")),
                                                           "end": utc(at(day, "16:45"))})
    assert clash.status_code == 409 and refusal_code(clash) == "therapist_busy"
    assert next_free(clash)["start"] == utc(at(day, "16:45"))
    appointment.refresh_from_db()
    assert appointment.starts_at == at(day, "14:00")


def test_a_put_cancels_with_the_reason_as_cancelation_reason(world, day, writer):
    appointment = book(world, at(day, "10:00"))
    resource = body(writer.get(f"Appointment/{appointment.pk}"))
    response = put(writer, f"Appointment/{appointment.pk}",
                   {**resource, "status": "cancelled", "cancelationReason": {"text": "Feeling better"}})
    assert response.status_code == 200, response.content
    appointment.refresh_from_db()
    assert (appointment.status, appointment.reason) == (AppointmentStatus.CANCELLED, "Feeling better")
    assert body(response)["cancelationReason"] == {"text": "Feeling better"}
    # The same body again changes nothing.
    again = put(writer, f"Appointment/{appointment.pk}", body(response))
    assert again.status_code == 200 and body(again)["status"] == "cancelled", again.content


def test_a_put_checks_the_patient_in_and_then_records_a_no_show(world, writer):
    appointment = on_the_books(world, timezone.now().replace(second=0, microsecond=0))
    resource = body(writer.get(f"Appointment/{appointment.pk}"))
    response = put(writer, f"Appointment/{appointment.pk}", {**resource, "status": "arrived"})
    assert response.status_code == 200, response.content
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.ARRIVED
    assert AuditEvent.objects.filter(action="appointment.check_in").exists()
    response = put(writer, f"Appointment/{appointment.pk}",
                   {**body(response), "status": "noshow", "comment": "Left before being seen"})
    assert response.status_code == 200, response.content
    appointment.refresh_from_db()
    assert (appointment.status, appointment.reason) == (AppointmentStatus.NO_SHOW, "Left before being seen")


@pytest.mark.parametrize("changes, status, words", [
    ({"status": "fulfilled"}, 422, "follows the visit note in Palpate"),
    ({"status": "cancelled"}, 422, "Say why the appointment was cancelled"),
    ({"status": "noshow", "comment": "Did not come"}, 409, "a no-show is recorded once it has begun"),
    ({"status": "arrived"}, 409, "check patients in on the day"),
    ({"id": "12345"}, 400, "is not the id in the URL"),
])
def test_a_status_change_the_services_refuse_says_why(world, day, writer, changes, status, words):
    appointment = book(world, at(day, "10:00"))
    resource = {**body(writer.get(f"Appointment/{appointment.pk}")), **changes}
    response = put(writer, f"Appointment/{appointment.pk}", resource)
    assert response.status_code == status, response.content
    assert words in issues(response)[0]["diagnostics"]
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED


def test_delete_cancels_with_the_reason_asked_for_and_twice_is_once(world, day, writer):
    appointment = book(world, at(day, "10:00"))
    response = writer.delete(f"Appointment/{appointment.pk}")
    assert response.status_code == 422 and "Say why the appointment is cancelled" in issues(response)[0]["diagnostics"]
    assert writer.delete(f"Appointment/{appointment.pk}?reason=Moved+away").status_code == 204
    appointment.refresh_from_db()
    assert (appointment.status, appointment.reason) == (AppointmentStatus.CANCELLED, "Moved away")
    assert body(writer.get(f"Appointment/{appointment.pk}"))["status"] == "cancelled"  # kept, as cancelled
    assert writer.delete(f"Appointment/{appointment.pk}?reason=Again").status_code == 204
    assert AuditEvent.objects.filter(action="appointment.cancel").count() == 1
    assert AuditEvent.objects.filter(action="fhir.delete", patient_id=world.harbor_patient.pk).count() == 2


@pytest.mark.parametrize("coding, status", [
    (None, AppointmentStatus.LATE_CANCELLED),
    ({"code": "pat-fb"}, AppointmentStatus.LATE_CANCELLED),
    ({"code": "oth-err"}, AppointmentStatus.CANCELLED),
])
def test_a_put_inside_the_window_is_late_unless_the_reason_says_the_clinic_cancelled(world, writer, coding, status):
    appointment = on_the_books(world, timezone.now() + dt.timedelta(hours=3))
    reason = {"text": "Cancelled"}
    if coding:
        reason["coding"] = [{"system": "http://terminology.hl7.org/CodeSystem/appointment-cancellation-reason",
                             **coding}]
    resource = {**body(writer.get(f"Appointment/{appointment.pk}")), "status": "cancelled",
                "cancelationReason": reason}
    assert put(writer, f"Appointment/{appointment.pk}", resource).status_code == 200
    appointment.refresh_from_db()
    assert appointment.status == status


def test_a_cancellation_inside_the_clinics_window_is_late_and_says_so(world, writer):
    appointment = on_the_books(world, timezone.now() + dt.timedelta(hours=2))
    assert writer.delete(f"Appointment/{appointment.pk}?reason=Overslept").status_code == 204
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.LATE_CANCELLED
    read = body(writer.get(f"Appointment/{appointment.pk}"))
    assert read["status"] == "cancelled" and read["cancelationReason"]["text"] == "Late cancellation: Overslept"


# -- tenancy, scopes, the rest of the API ----------------------------------------------------------------------------


def test_another_clinics_appointment_is_a_404_like_an_unknown_one(world, day, writer):
    theirs = summit_appointment(world, at(day, "10:00"))
    resource = appointment_body(world.summit_patient.pk, world.charlie.pk, at(day, "11:00"), 45)
    for response, unknown in [
        (writer.get(f"Appointment/{theirs.pk}"), writer.get("Appointment/999999")),
        (put(writer, f"Appointment/{theirs.pk}", resource), put(writer, "Appointment/999999", resource)),
        (writer.delete(f"Appointment/{theirs.pk}?reason=Nope"), writer.delete("Appointment/999999?reason=Nope")),
    ]:
        assert response.status_code == unknown.status_code == 404
        assert issues(response)[0]["diagnostics"].replace(str(theirs.pk), "N") == \
            issues(unknown)[0]["diagnostics"].replace("999999", "N")
    response = writer.post("Appointment", resource)  # booking their patient: not a patient of this clinic
    assert response.status_code == 422 and "patient of your clinic" in issues(response)[0]["diagnostics"]
    theirs.refresh_from_db()
    assert theirs.status == AppointmentStatus.BOOKED and Appointment.objects.count() == 1


def test_a_token_without_write_scope_reads_but_cannot_book_move_or_cancel(world, day, make_token, fhir):
    appointment = book(world, at(day, "10:00"))
    reader = fhir(make_token(world.fran, "read"))
    resource = body(reader.get(f"Appointment/{appointment.pk}"))
    responses = [reader.post("Appointment", appointment_body(world.harbor_patient.pk, world.alice.pk,
                                                             at(day, "12:00"), 45)),
                 put(reader, f"Appointment/{appointment.pk}", {**resource, "start": utc(at(day, "13:00"))}),
                 reader.delete(f"Appointment/{appointment.pk}?reason=Because")]
    for response in responses:
        assert response.status_code == 403 and "does not allow changing the schedule" in issues(response)[0]["diagnostics"]
    appointment.refresh_from_db()
    assert (appointment.status, appointment.starts_at) == (AppointmentStatus.BOOKED, at(day, "10:00"))
    assert Appointment.objects.count() == 1


def test_an_auditors_write_token_still_cannot_change_the_schedule(world, day, make_token, fhir):
    auditor = fhir(make_token(world.aubrey, "write"))
    response = auditor.post("Appointment", appointment_body(world.harbor_patient.pk, world.alice.pk,
                                                            at(day, "10:00"), 45))
    assert response.status_code == 403 and not Appointment.objects.exists()


def test_the_capability_statement_everything_and_export_include_appointments(world, day, writer, make_token, fhir,
                                                                              settings, tmp_path):
    from palpate.interop.models import BulkExport, ExportStatus
    from palpate.interop.tasks import run_export

    appointment = book(world, at(day, "10:00"))
    statement = body(writer.get("metadata"))
    entry = next(r for r in statement["rest"][0]["resource"] if r["type"] == "Appointment")
    assert {i["code"] for i in entry["interaction"]} == {"read", "search-type", "create", "update", "delete"}
    assert {p["name"] for p in entry["searchParam"]} >= {"patient", "practitioner", "date", "status"}
    assert entry["searchInclude"] == ["Appointment:patient", "Appointment:practitioner"]
    assert "Appointment" in REGISTRY and REGISTRY["Appointment"].patient_compartment

    reader = fhir(make_token(world.olivia, "read"))
    everything = body(reader.get(f"Patient/{world.harbor_patient.pk}/$everything"))
    assert f"Appointment/{appointment.pk}" in {f"{e['resource']['resourceType']}/{e['resource']['id']}"
                                               for e in everything["entry"]}

    settings.PALPATE_FHIR_EXPORT_DIR = tmp_path / "exports"
    kickoff = reader.get("$export", headers={"Prefer": "respond-async"}, _type="Appointment")
    assert kickoff.status_code == 202, kickoff.content
    for export in BulkExport.objects.filter(status=ExportStatus.QUEUED):
        run_export.call_local(export.pk)
    manifest = body(reader.get(kickoff["Content-Location"].split("/fhir/R4/")[1]))
    [output] = manifest["output"]
    assert (output["type"], output["count"]) == ("Appointment", 1)
    response = reader.client.get(output["url"].split("testserver")[1], HTTP_AUTHORIZATION=f"Bearer {reader.token}")
    [line] = b"".join(response.streaming_content).decode().splitlines()
    exported = json.loads(line)
    reader.recorder.add(exported)
    assert exported["id"] == str(appointment.pk)


# -- parallel creates (PostgreSQL: threads need a shared database) ------------------------------------------------------

WRITERS = 8


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="threads need a shared database: PostgreSQL here; "
                                                              "tests/served covers parallel booking on SQLite")
def test_parallel_creates_of_one_slot_through_the_fhir_api_give_exactly_one(world, make_token):
    settings = open_clinic(world.harbor)
    start = at(open_day(settings), "10:00")
    token = make_token(world.fran, "write")
    resource = json.dumps(appointment_body(world.harbor_patient.pk, world.alice.pk, start, 45))
    gate = threading.Barrier(WRITERS)
    results: list[tuple[int, dict]] = []
    lock = threading.Lock()

    def create() -> None:
        try:
            gate.wait(10)
            response = Client().post("/fhir/R4/Appointment", resource, content_type="application/fhir+json",
                                     HTTP_AUTHORIZATION=f"Bearer {token}")
            outcome = (response.status_code, json.loads(response.content))
        except BaseException as problem:  # noqa: BLE001 - every outcome is counted below
            outcome = (0, {"error": repr(problem)})
        finally:
            connection.close()
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=create) for _ in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    statuses = sorted(status for status, _ in results)
    assert statuses == [201] + [409] * (WRITERS - 1), results
    for status, outcome in results:
        if status == 409:
            assert outcome["issue"][0]["details"]["coding"][0]["code"] == "therapist_busy"
            offered = [e["valuePeriod"]["start"] for i in outcome["issue"] for e in i.get("extension", [])]
            assert offered == [utc(start + dt.timedelta(minutes=45))]
    assert Appointment.objects.filter(therapist=world.alice, starts_at=start).count() == 1


def test_a_search_page_reads_a_fixed_number_of_queries(world, writer, django_assert_max_num_queries):
    start = timezone.now().replace(second=0, microsecond=0) + dt.timedelta(days=2)
    for n in range(60):
        on_the_books(world, start + dt.timedelta(hours=n))

    def queries(count: int) -> int:
        from django.db import connection as default
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(default) as captured:
            response = writer.get("Appointment", patient=world.harbor_patient.pk, _count=count,
                                  _include="Appointment:practitioner")
        assert response.status_code == 200 and len(body(response)["entry"]) == count + 1  # the page and Alice
        return len(captured)

    queries(5)  # the first use of a token writes its "last used"
    assert queries(5) == queries(50)
    with django_assert_max_num_queries(16):
        writer.get("Appointment", _count=50)
