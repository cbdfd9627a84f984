"""Reads are audited off the serialised path: staged with their own MAC, folded into the chain in batches."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from palpate.audit import services
from palpate.audit.models import AppendOnlyError, AuditEvent, AuditRead
from palpate.audit.services import fold_reads, record_read, verify_chain
from palpate.clinics.actor import Actor
from palpate.clinics.models import Membership

pytestmark = pytest.mark.no_fold


def _alice(world):  # noqa: ANN001, ANN202
    return Actor.of(Membership.objects.get(user=world.alice))


def test_it_records_a_read_without_touching_the_chain_head(world):
    with CaptureQueriesContext(connection) as queries:
        record_read(_alice(world), "patient.view", patient_id=world.harbor_patient.pk, obj=world.harbor_patient,
                    ip_address="127.0.0.1", detail={"tab": "chart"})
    touched = " ".join(q["sql"].lower() for q in queries.captured_queries)
    assert "audit_auditchainhead" not in touched and "audit_auditevent" not in touched
    staged = AuditRead.objects.get()
    assert staged.action == "patient.view" and staged.detail == {"tab": "chart"}
    assert not AuditEvent.objects.filter(action="patient.view").exists()


def test_folding_appends_staged_reads_to_the_chain_in_order_and_empties_the_stage(world):
    for n in range(3):
        record_read(_alice(world), "patient.view", patient_id=world.harbor_patient.pk, detail={"n": n})
    assert fold_reads() == 3
    events = list(AuditEvent.objects.filter(action="patient.view").order_by("seq"))
    assert [e.new for e in events] == [{"n": 0}, {"n": 1}, {"n": 2}]
    assert events[0].actor == world.alice and events[0].patient_id == world.harbor_patient.pk
    assert not AuditRead.objects.exists()
    assert fold_reads() == 0  # running it again changes nothing
    assert verify_chain(full=True).ok


def test_folding_in_small_batches_keeps_the_chain_whole(world):
    for n in range(7):
        record_read(_alice(world), "patient.view", patient_id=None, detail={"n": n})
    assert fold_reads(batch=3) == 7
    assert verify_chain(full=True).ok


def test_a_fold_that_fails_half_way_leaves_every_read_staged(world, monkeypatch):
    record_read(_alice(world), "patient.view", patient_id=None)
    before = AuditEvent.objects.count()

    def crash(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise OSError("the process died here")

    monkeypatch.setattr(services.AuditEvent.objects, "bulk_create", crash)
    with pytest.raises(OSError):
        fold_reads()
    assert AuditEvent.objects.count() == before and AuditRead.objects.count() == 1
    monkeypatch.undo()
    assert fold_reads() == 1 and verify_chain(full=True).ok


def test_verify_reports_a_forged_or_altered_staged_read_and_folding_leaves_it(world):
    record_read(_alice(world), "patient.view", patient_id=world.harbor_patient.pk)
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER IF EXISTS audit_read_no_update" + (" ON audit_auditread" if connection.vendor == "postgresql" else ""))
        cursor.execute("UPDATE audit_auditread SET actor_name = 'mallory'")
    report = verify_chain()
    assert not report.ok and "staged read" in report.first_break.problem
    assert fold_reads() == 0 and AuditRead.objects.count() == 1


def test_a_staged_read_cannot_be_changed(world):
    record_read(_alice(world), "patient.view", patient_id=None)
    read = AuditRead.objects.get()
    with pytest.raises(AppendOnlyError):
        read.save()
    with pytest.raises(Exception, match="never changed"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditread SET action = 'x'")


def test_a_read_inside_a_failed_transaction_is_not_recorded_and_one_committed_survives(world):
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        record_read(_alice(world), "patient.view", patient_id=None)
        1 / 0  # noqa: B018
    assert not AuditRead.objects.exists()
    record_read(_alice(world), "patient.view", patient_id=None)
    assert AuditRead.objects.count() == 1


def test_the_audit_log_page_shows_reads_not_yet_folded_by_the_worker(world, as_user):
    record_read(_alice(world), "patient.view", patient_id=world.harbor_patient.pk)
    page = as_user(world.olivia).get("/audit/?action=patient.view")
    assert page.status_code == 200 and "patient.view" in page.content.decode()
    assert AuditEvent.objects.filter(action="patient.view", actor=world.alice).exists()
