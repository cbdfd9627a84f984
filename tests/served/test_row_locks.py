"""Row locks that cannot deadlock with the audit trail (PostgreSQL).

Every audited write inserts an audit event that references its clinic, and takes the clinic's
chain head. Registering a patient also locks the clinic row to count record numbers. With a plain
FOR UPDATE on the clinic, a registration (clinic, then chain head) and any other audited write
(chain head, then a row referencing the clinic) wait for each other: PostgreSQL kills one of them
("deadlock detected"), seen as 500s under load. Palpate's row locks are FOR NO KEY UPDATE, which
do not block the key share lock an insert referencing the row takes.
"""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import close_old_connections, connection, transaction

from palpate.audit.models import AuditChainHead
from palpate.audit.services import record_event
from palpate.clinics.actor import Actor
from palpate.clinics.models import Clinic, Membership
from palpate.patients.models import Patient
from palpate.patients.services import _next_record_number

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite serialises every write transaction"),
]


def test_registering_a_patient_while_another_write_holds_the_audit_chain_does_not_deadlock(world) -> None:  # noqa: ANN001
    clinic = Clinic.objects.get(pk=world.harbor.pk)
    AuditChainHead.objects.get_or_create(clinic=clinic)
    actor = Actor.of(Membership.objects.get(user=world.alice, clinic=clinic))
    clinic_locked, head_locked = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def registration() -> None:  # locks the clinic row first, then wants the chain head
        try:
            with transaction.atomic():
                _next_record_number(clinic.pk)
                clinic_locked.set()
                head_locked.wait(10)
                record_event(actor=actor, action="test.registration", patient_id=None)
        except BaseException as problem:  # noqa: BLE001 - reported below
            errors.append(problem)
        finally:
            close_old_connections()
            connection.close()

    def other_write() -> None:  # holds the chain head, then inserts a row that references the clinic
        try:
            clinic_locked.wait(10)
            with transaction.atomic():
                AuditChainHead.objects.select_for_update(no_key=True).get(clinic=clinic)
                head_locked.set()
                Patient.objects.create(clinic=clinic, given_name="Key", family_name="Share", record_number="lock-1",
                                       date_of_birth=dt.date(1980, 1, 1), sex="female")
        except BaseException as problem:  # noqa: BLE001 - reported below
            errors.append(problem)
        finally:
            connection.close()

    threads = [threading.Thread(target=registration), threading.Thread(target=other_write)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert Patient.objects.filter(record_number="lock-1").exists()
