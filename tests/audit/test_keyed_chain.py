"""The trail cannot be rewritten quietly: keyed chain, anchors outside the database, checkpoints."""

from __future__ import annotations

import importlib
import json
import os
import stat

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from palpate.audit import db_guards, keys
from palpate.audit.anchor import anchor_now, read_anchors
from palpate.audit.chain import event_fields, legacy_event_digest
from palpate.audit.checkpoint import CheckpointError, check_checkpoint, make_checkpoint
from palpate.audit.models import AuditChainHead, AuditEvent
from palpate.audit.services import record_event, verify_chain
from palpate.clinics.actor import Actor
from palpate.clinics.models import Membership


def _events(world, n: int) -> None:  # noqa: ANN001
    actor = Actor.of(Membership.objects.get(user=world.alice))
    for i in range(n):
        with transaction.atomic():
            record_event(actor=actor, action="patient.view", patient_id=world.harbor_patient.pk, new={"i": i})


def _sql(statement: str, params: list[object]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def _rewrite_with_plain_sha256(clinic_id: int, from_seq: int, change: dict[str, object]) -> None:
    """What a forger with database access but without the key does: edit, then recompute every later hash."""
    db_guards.remove(connection)
    events = list(AuditEvent.objects.filter(clinic_id=clinic_id, seq__gte=from_seq).order_by("seq"))
    prev = AuditEvent.objects.get(clinic_id=clinic_id, seq=from_seq - 1).hash if from_seq > 1 else ""
    for event in events:
        if event.seq == from_seq:
            event.new = change
        event.prev_hash = prev
        prev = legacy_event_digest(**event_fields(event))
        _sql("UPDATE audit_auditevent SET new = %s, prev_hash = %s, hash = %s WHERE id = %s",
             [json.dumps(event.new), event.prev_hash, prev, event.pk])
    _sql("UPDATE audit_auditchainhead SET last_hash = %s WHERE clinic_id = %s", [prev, clinic_id])


def test_it_keys_every_new_event_so_a_plain_sha256_does_not_match(world):
    event = AuditEvent.objects.filter(clinic=world.harbor).first()
    assert event.hash != legacy_event_digest(**event_fields(event))
    assert verify_chain().ok


def test_it_reports_the_last_50_events_deleted_and_the_head_moved_back(world, capsys):
    _events(world, 60)
    anchor_now()
    head = AuditChainHead.objects.get(clinic=world.harbor)
    keep = head.seq - 50
    db_guards.remove(connection)
    _sql("DELETE FROM audit_auditevent WHERE clinic_id = %s AND seq > %s", [world.harbor.pk, keep])
    new_last = AuditEvent.objects.get(clinic=world.harbor, seq=keep)
    _sql("UPDATE audit_auditchainhead SET seq = %s, last_hash = %s WHERE clinic_id = %s",
         [keep, new_last.hash, world.harbor.pk])

    for full in (False, True):
        report = verify_chain(full=full)
        assert not report.ok
        assert report.first_break.clinic_id == world.harbor.pk
        assert f"chain ends at event {keep} but event {head.seq} was anchored" in report.first_break.problem
    with pytest.raises(SystemExit) as exit_info:
        call_command("audit_verify")
    assert exit_info.value.code == 1
    assert "older database restored" in capsys.readouterr().err


def test_it_reports_an_event_changed_and_every_later_hash_recomputed_without_the_key(world, capsys):
    _events(world, 10)
    target = AuditEvent.objects.filter(clinic=world.harbor).order_by("seq")[3]
    _rewrite_with_plain_sha256(world.harbor.pk, target.seq, {"family_name": "Forged"})

    report = verify_chain(full=True)
    assert not report.ok
    assert report.first_break.seq == target.seq
    assert "recomputed without the audit key" in report.first_break.problem
    with pytest.raises(SystemExit):
        call_command("audit_verify", "--full")
    assert "BROKEN" in capsys.readouterr().err


def test_it_reports_a_rewrite_of_an_anchored_event_even_when_verify_is_incremental(world):
    _events(world, 10)
    anchor_now()
    target = AuditEvent.objects.filter(clinic=world.harbor).order_by("seq")[2]
    _rewrite_with_plain_sha256(world.harbor.pk, target.seq, {"family_name": "Forged"})
    report = verify_chain(full=False)
    assert not report.ok and "rewritten" in report.first_break.problem


def test_it_verifies_incrementally_from_the_last_anchor_and_fully_on_request(world):
    _events(world, 5)
    anchor_now()
    top = AuditChainHead.objects.get(clinic=world.harbor).seq
    _events(world, 3)
    incremental = verify_chain(full=False)
    assert incremental.ok and incremental.started_from[world.harbor.pk] == top + 1
    assert verify_chain(full=True).started_from[world.harbor.pk] == 1


def test_it_reports_an_edited_anchor_file(world, own_anchor_file):
    _events(world, 2)
    anchor_now()
    line = json.loads(own_anchor_file.read_text().splitlines()[0])
    line["seq"] = 1
    own_anchor_file.write_text(json.dumps(line) + "\n")
    report = verify_chain()
    assert not report.ok and "anchor file" in report.first_break.problem


def test_it_never_anchors_lower_than_an_earlier_anchor(world):
    _events(world, 5)
    first = anchor_now()
    db_guards.remove(connection)
    top = AuditChainHead.objects.get(clinic=world.harbor).seq
    _sql("DELETE FROM audit_auditevent WHERE clinic_id = %s AND seq = %s", [world.harbor.pk, top])
    assert anchor_now() == []
    assert read_anchors().highest[world.harbor.pk].seq == {a.clinic_id: a.seq for a in first}[world.harbor.pk]


def test_the_anchor_file_and_the_key_file_are_private(world, own_anchor_file, tmp_path, monkeypatch):
    anchor_now()
    assert stat.S_IMODE(os.stat(own_anchor_file).st_mode) == 0o600
    key_file = tmp_path / "audit_key"
    keys.write_new_key(key_file)
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    with pytest.raises(FileExistsError):
        keys.write_new_key(key_file)


def test_it_takes_the_key_from_the_environment_when_set(monkeypatch):
    monkeypatch.setenv("PALPATE_AUDIT_KEY", "k" * 40)
    keys.forget_cached_key()
    assert keys.audit_key() == b"k" * 40
    monkeypatch.setenv("PALPATE_AUDIT_KEY", "short")
    with pytest.raises(keys.AuditKeyError):
        keys.audit_key()
    monkeypatch.delenv("PALPATE_AUDIT_KEY")
    keys.forget_cached_key()


def test_a_chain_verified_with_another_key_is_reported(world, monkeypatch):
    monkeypatch.setenv("PALPATE_AUDIT_KEY", "another installation's key, long enough")
    report = verify_chain(full=True)
    assert not report.ok and "altered" in report.first_break.problem


# -- chains written before keying -----------------------------------------------------------------


def _legacy_chain(world, n: int) -> None:  # noqa: ANN001
    """Events as Palpate wrote them before keying: plain SHA-256 links."""
    from django.utils import timezone

    db_guards.remove(connection)
    _sql("DELETE FROM audit_auditevent", [])
    _sql("DELETE FROM audit_auditchainhead", [])
    db_guards.install(connection)
    prev = ""
    for seq in range(1, n + 1):
        fields = {"clinic_id": world.harbor.pk, "seq": seq, "created_at": timezone.now(), "actor_id": None,
                  "actor_name": "system", "patient_id": world.harbor_patient.pk, "action": "patient.view",
                  "object_type": "", "object_id": "", "old": None, "new": {"n": seq}, "ip_address": None,
                  "prev_hash": prev}
        prev = legacy_event_digest(**fields)
        AuditEvent.objects.create(hash=prev, **fields)
    AuditChainHead.objects.create(clinic=world.harbor, seq=n, last_hash=prev)


def _seal() -> None:
    from django.apps import apps

    importlib.import_module("palpate.audit.migrations.0004_seal_unkeyed_chains").seal(apps, None)


def test_the_migration_seals_an_existing_unkeyed_chain_so_it_still_verifies(world):
    _legacy_chain(world, 6)
    assert not verify_chain().ok  # unkeyed throughout: nothing proves it came from this installation
    _seal()
    assert verify_chain(full=True).ok
    assert AuditEvent.objects.get(clinic=world.harbor, seq=7).action == "audit.rekeyed"


def test_a_sealed_legacy_prefix_rewritten_with_plain_sha256_is_reported(world):
    _legacy_chain(world, 6)
    _seal()
    _rewrite_with_plain_sha256(world.harbor.pk, 2, {"n": "forged"})
    report = verify_chain(full=True)
    assert not report.ok
    assert report.first_break.seq == 7  # the keyed seal no longer matches what came before it


# -- signed checkpoints -----------------------------------------------------------------------------


def test_a_signed_checkpoint_matches_until_the_trail_is_rolled_back(world):
    _events(world, 4)
    document = make_checkpoint()
    assert check_checkpoint(document) == []
    _events(world, 2)
    assert check_checkpoint(document) == []  # growth after a checkpoint is fine
    db_guards.remove(connection)
    seq = next(c["seq"] for c in document["clinics"] if c["clinic"] == world.harbor.pk)
    _sql("DELETE FROM audit_auditevent WHERE clinic_id = %s AND seq >= %s", [world.harbor.pk, seq])
    _sql("UPDATE audit_auditchainhead SET seq = %s WHERE clinic_id = %s", [seq - 1, world.harbor.pk])
    problems = check_checkpoint(document)
    assert problems and "older database restored" in problems[0]


def test_a_changed_checkpoint_fails_its_signature_and_junk_is_bad_input(world):
    document = make_checkpoint()
    document["clinics"][0]["seq"] = 1
    assert "signature" in check_checkpoint(document)[0]
    with pytest.raises(CheckpointError):
        check_checkpoint({"format": "something else"})
    with pytest.raises(CheckpointError):
        check_checkpoint({"format": "palpate-audit-checkpoint/1", "clinics": "x"})


def test_the_verify_command_checks_a_checkpoint_file_and_refuses_an_unreadable_one(world, tmp_path, capsys):
    path = tmp_path / "checkpoint.json"
    call_command("audit_checkpoint", "--out", str(path))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    call_command("audit_verify", "--checkpoint", str(path))
    assert "checkpoint matched" in capsys.readouterr().out
    (tmp_path / "junk.json").write_text("{not json")
    with pytest.raises(SystemExit) as exit_info:
        call_command("audit_verify", "--checkpoint", str(tmp_path / "junk.json"))
    assert exit_info.value.code == 2
