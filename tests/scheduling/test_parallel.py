"""Many bookings of one slot at once, each on its own database connection: exactly one wins.

PostgreSQL runs the writers truly in parallel (READ COMMITTED): several pass the services' check,
and the exclusion constraint refuses all but the first insert, reported as the slot taken with
the next free slot. SQLite's in-memory test database cannot be shared by threads writing at once;
its leg of this test drives the served app (tests/served/test_parallel_booking.py), where SQLite's
IMMEDIATE transactions serialise the writers and the triggers stand behind the check.
"""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection

from palpate.scheduling import services
from palpate.scheduling.models import Appointment
from tests.scheduling.conftest import NOW, at

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="threads need a shared database: PostgreSQL here, "
                                                                 "SQLite through the served app"),
]

WRITERS = 12


def _episodes(sched, count):  # noqa: ANN001, ANN202
    from palpate.patients.models import Episode, Patient
    from palpate.patients.services import do_create_episode, do_create_patient

    out = []
    for n in range(count):
        patient = do_create_patient(sched.alice, Patient(given_name=f"Racer{n}", family_name="Parallel",
                                                         date_of_birth=dt.date(1980, 1, 1), sex="female"))
        out.append(do_create_episode(sched.alice, patient, Episode(
            condition="neck_pain", body_region="neck", diagnosis="Cervicalgia", icd10_code="M54.2",
            onset_date=dt.date(2027, 1, 5), payer="self_pay")))
    return out


def _race(sched, bookings):  # noqa: ANN001, ANN202
    gate = threading.Barrier(len(bookings))
    results: list[object] = []
    lock = threading.Lock()

    def book(booking):  # noqa: ANN001, ANN202
        try:
            gate.wait(10)
            outcome = services.do_book(sched.fran, booking, now=NOW)
        except BaseException as problem:  # noqa: BLE001 - every outcome is counted below
            outcome = problem
        finally:
            connection.close()
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=book, args=(b,)) for b in bookings]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def test_twelve_parallel_bookings_of_one_slot_give_exactly_one_appointment(sched):
    episodes = _episodes(sched, WRITERS)
    start = at("2027-03-02", "10:00")
    bookings = [services.Booking(episode=e, therapist_id=sched.world.alice.pk, starts_at=start, minutes=45)
                for e in episodes]
    results = _race(sched, bookings)
    booked = [r for r in results if isinstance(r, Appointment)]
    refused = [r for r in results if isinstance(r, services.SlotTaken)]
    assert len(results) == WRITERS
    assert len(booked) == 1, results
    assert len(refused) == WRITERS - 1, [r for r in results if not isinstance(r, (Appointment, services.SlotTaken))]
    assert all(r.next_free is not None and r.next_free.starts_at == at("2027-03-02", "10:45") for r in refused)
    assert Appointment.objects.filter(therapist=sched.world.alice, starts_at=start).count() == 1


def test_overlapping_not_identical_bookings_race_to_one_too(sched):
    episodes = _episodes(sched, 6)
    # Every one of these 45 minutes holds 10:20-10:25, so any two overlap.
    starts = [at("2027-03-02", t) for t in ("09:40", "09:50", "10:00", "10:10", "10:15", "10:20")]
    bookings = [services.Booking(episode=e, therapist_id=sched.world.alice.pk, starts_at=s, minutes=45)
                for e, s in zip(episodes, starts, strict=True)]
    results = _race(sched, bookings)
    assert sum(isinstance(r, Appointment) for r in results) == 1
    assert sum(isinstance(r, services.SlotTaken) for r in results) == 5
