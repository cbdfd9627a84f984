from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from palpate.audit import db_guards
from palpate.audit.models import AppendOnlyError, AuditEvent
from palpate.audit.services import record_event, verify_chain
from palpate.clinics.actor import Actor
from palpate.clinics.models import Membership


def test_a_fresh_chain_verifies(world):
    report = verify_chain()
    assert report.ok and report.events_checked == AuditEvent.objects.count() > 0


def test_each_clinic_has_its_own_gapless_chain(world):
    for clinic in (world.harbor, world.summit):
        seqs = list(AuditEvent.objects.filter(clinic=clinic).values_list("seq", flat=True))
        assert seqs == list(range(1, len(seqs) + 1))


def test_audit_rows_cannot_be_updated_or_deleted_through_the_orm(world):
    event = AuditEvent.objects.first()
    event.action = "tampered"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().update(action="x")


def test_the_database_itself_refuses_updates_to_audit_rows(world):
    with pytest.raises(Exception, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET action = 'x'")


def _drop_guards() -> None:
    db_guards.remove(connection)


def test_verify_finds_the_first_altered_event(world):
    _drop_guards()
    target = AuditEvent.objects.filter(clinic=world.harbor).order_by("seq")[1]
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET new = %s WHERE id = %s", ['{"family_name": "Forged"}', target.pk])
    report = verify_chain()
    assert not report.ok
    assert report.first_break.seq == target.seq and report.first_break.clinic_id == world.harbor.pk
    assert "altered" in report.first_break.problem


def test_verify_finds_a_removed_event_in_the_middle_and_at_the_end(world):
    actor = Actor.of(Membership.objects.get(user=world.alice))
    for _ in range(3):
        with transaction.atomic():
            record_event(actor=actor, action="patient.view", patient_id=world.harbor_patient.pk)
    _drop_guards()
    events = list(AuditEvent.objects.filter(clinic=world.harbor).order_by("seq"))
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [events[-1].pk])
    report = verify_chain()
    assert not report.ok and "removed" in report.first_break.problem
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [events[1].pk])
    report = verify_chain()
    assert report.first_break.seq == 2 and "missing" in report.first_break.problem


def test_the_audit_verify_command_exits_non_zero_on_a_broken_chain(world, capsys):
    call_command("audit_verify")
    assert "intact" in capsys.readouterr().out
    _drop_guards()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET actor_name = 'mallory' WHERE seq = 1")
    with pytest.raises(SystemExit) as exit_info:
        call_command("audit_verify")
    assert exit_info.value.code == 1
    assert "BROKEN" in capsys.readouterr().err


@pytest.mark.django_db(transaction=True)
def test_record_event_refuses_to_run_outside_a_transaction():
    from palpate.clinics.models import Clinic

    clinic = Clinic.objects.create(name="Solo", slug="solo")
    with pytest.raises(RuntimeError):
        record_event(actor=None, clinic=clinic, action="x")


def test_a_failed_write_leaves_no_audit_row(world):
    actor = Actor.of(Membership.objects.get(user=world.alice))
    before = AuditEvent.objects.count()
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        record_event(actor=actor, action="patient.update", patient_id=world.harbor_patient.pk)
        1 / 0  # noqa: B018
    assert AuditEvent.objects.count() == before
    assert verify_chain().ok


def test_the_audit_log_filter_ignores_a_non_ascii_digit(world, as_user):
    assert as_user(world.olivia).get("/audit/?patient=²").status_code == 200


READ_PAGES = [
    ("/patients/{p}/evaluations/{ev}/edit/", "evaluation.edit_view"),
    ("/patients/{p}/evaluations/{ev}/sign/", "evaluation.sign_view"),
    ("/patients/{p}/evaluations/referrals/", "referral.list"),
    ("/patients/{p}/plans/{plan}/edit/", "plan.edit_view"),
    ("/patients/{p}/plans/{plan}/sign/", "plan.sign_view"),
    ("/patients/{p}/visits/start/{e}/", "visit.start_view"),
    ("/patients/{p}/visits/{v}/sign/", "visit.sign_view"),
    ("/patients/{p}/visits/{v}/addendum/", "visit.addendum_view"),
    ("/api/patients/{p}/episodes", "episode.list.api"),
]


@pytest.mark.parametrize("template, action", READ_PAGES)
def test_every_page_that_shows_a_patients_record_audits_the_read(clinical_world, as_user, template, action):
    client = as_user(clinical_world.world.alice)
    response = client.get(template.format(**clinical_world.ids()))
    assert response.status_code == 200, template
    event = AuditEvent.objects.filter(action=action).latest("seq")
    assert event.actor == clinical_world.world.alice and event.patient_id == clinical_world.world.harbor_patient.pk


def test_reading_the_audit_log_and_the_start_page_is_audited_with_what_they_show(clinical_world, as_user):
    import datetime as dt

    from palpate.visits.models import Visit

    cw = clinical_world
    Visit.objects.filter(pk=cw.visit.pk).update(visit_date=dt.date.today())
    as_user(cw.world.olivia).get("/audit/?action=patient")
    assert AuditEvent.objects.filter(action="audit.view").latest("seq").new["action"] == "patient"
    as_user(cw.world.alice).get("/")
    assert cw.world.harbor_patient.pk in AuditEvent.objects.filter(action="today.view").latest("seq").new["patients_shown"]
