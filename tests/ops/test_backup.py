"""``palpate backup`` and ``palpate restore`` as an operator runs them (real processes, a real database file
or a fresh PostgreSQL database when the suite runs on PostgreSQL)."""

from __future__ import annotations

import json
import os
import shutil
import stat
import tarfile
from pathlib import Path

import pytest

from palpate.ops.backup import ARCHIVE_PATTERN
from tests.ops.installs import WRITE_EVENTS, empty_target, install


def _archive(directory: Path) -> Path:
    archives = sorted(p for p in directory.iterdir() if ARCHIVE_PATTERN.match(p.name))
    assert len(archives) == 1, archives
    return archives[0]


def test_it_backs_up_a_running_install_and_restores_it_into_an_empty_data_directory(tmp_path):
    with install(tmp_path) as source:
        done = source.palpate("backup", str(tmp_path / "backups"), check=True)
        assert "NOT encrypted" in done.stdout
        archive = _archive(tmp_path / "backups")
        assert stat.S_IMODE(archive.stat().st_mode) == 0o600
        with tarfile.open(archive) as tar:
            names = set(tar.getnames())
            manifest = json.load(tar.extractfile("manifest.json"))
        assert {"manifest.json", "secret_key", "audit_key"} <= names
        assert manifest["database"]["vendor"] == ("postgresql" if source.database_url else "sqlite")
        assert manifest["row_counts"]["patients_patient"] == 48
        assert manifest["database"]["migrations"]["audit"] == "0004_seal_unkeyed_chains"
        assert all(len(f["sha256"]) == 64 for f in manifest["files"].values())
        # a backup copies every clinic's records: each clinic's trail says so
        assert source.query("import json; from palpate.audit.models import AuditEvent; print(json.dumps(list("
                            "AuditEvent.objects.filter(action='backup.create').values_list('new__archive', flat=True))))"
                            ) == [archive.name, archive.name]
        patients = source.query("import json; from palpate.patients.models import Patient; "
                                "print(json.dumps(sorted(Patient.objects.values_list('family_name', flat=True))))")

        with empty_target(tmp_path) as target:
            restored = target.palpate("restore", str(archive))
            assert restored.returncode == 0, restored.stdout + restored.stderr
            assert "integrity check passed" in restored.stdout and "audit chain intact (full)" in restored.stdout
            assert stat.S_IMODE(target.data_dir.stat().st_mode) == 0o700
            assert (target.data_dir / "audit_key").read_bytes() == (source.data_dir / "audit_key").read_bytes()
            assert target.query("import json; from palpate.patients.models import Patient; "
                                "print(json.dumps(sorted(Patient.objects.values_list('family_name', flat=True))))") == patients


def test_an_encrypted_backup_needs_its_passphrase_and_a_wrong_one_is_refused(tmp_path):
    (tmp_path / "pass").write_text("correct horse battery staple\n")
    (tmp_path / "wrong").write_text("incorrect horse battery staple\n")
    with install(tmp_path, demo=False) as source:
        source.palpate("backup", str(tmp_path / "b"), "--passphrase-file", str(tmp_path / "pass"), check=True)
        archive = _archive(tmp_path / "b")
        assert archive.name.endswith(".tar.gz.enc") and b"manifest.json" not in archive.read_bytes()
        with empty_target(tmp_path, "no-pass") as target:
            refused = target.palpate("restore", str(archive))
            assert refused.returncode == 2 and "--passphrase-file" in refused.stderr
        with empty_target(tmp_path, "wrong-pass") as target:
            refused = target.palpate("restore", str(archive), "--passphrase-file", str(tmp_path / "wrong"))
            assert refused.returncode == 2 and "wrong passphrase" in refused.stderr
            assert not any(target.data_dir.iterdir())  # nothing left behind: the directory can be used again
            restored = target.palpate("restore", str(archive), "--passphrase-file", str(tmp_path / "pass"))
            assert restored.returncode == 0, restored.stdout + restored.stderr


def test_a_key_file_encrypts_too_and_a_damaged_archive_is_refused(tmp_path):
    (tmp_path / "key").write_bytes(os.urandom(32))
    with install(tmp_path, demo=False) as source:
        source.palpate("backup", str(tmp_path / "b"), "--key-file", str(tmp_path / "key"), check=True)
        archive = _archive(tmp_path / "b")
        damaged = tmp_path / "damaged.tar.gz.enc"
        data = bytearray(archive.read_bytes())
        data[-40] ^= 0xFF
        damaged.write_bytes(bytes(data))
        with empty_target(tmp_path, "damaged") as target:
            refused = target.palpate("restore", str(damaged), "--key-file", str(tmp_path / "key"))
            assert refused.returncode == 2 and "damaged" in refused.stderr
        truncated = tmp_path / "truncated.tar.gz.enc"
        truncated.write_bytes(archive.read_bytes()[:-10])
        with empty_target(tmp_path, "truncated") as target:
            assert target.palpate("restore", str(truncated), "--key-file", str(tmp_path / "key")).returncode == 2


def test_restore_refuses_a_non_empty_data_directory_and_bad_input_with_exit_2(tmp_path):
    with install(tmp_path, demo=False) as source:
        source.palpate("backup", str(tmp_path / "b"), check=True)
        archive = _archive(tmp_path / "b")
        refused = source.palpate("restore", str(archive))
        assert refused.returncode == 2
        assert "is not empty" in refused.stderr and "restore only into an empty data directory" in refused.stderr
        with empty_target(tmp_path, "t") as target:
            assert target.palpate("restore", str(tmp_path / "missing.tar.gz")).returncode == 2
            (tmp_path / "junk.tar.gz").write_bytes(b"not a backup")
            junk = target.palpate("restore", str(tmp_path / "junk.tar.gz"))
            assert junk.returncode == 2 and "not a readable Palpate backup" in junk.stderr
        (tmp_path / "short").write_text("abc")
        bad_pass = source.palpate("backup", str(tmp_path / "b2"), "--passphrase-file", str(tmp_path / "short"))
        assert bad_pass.returncode == 2 and "at least 12" in bad_pass.stderr


def test_an_older_backup_restored_over_a_newer_anchor_is_reported(tmp_path):
    with install(tmp_path) as source:
        source.palpate("backup", str(tmp_path / "b"), check=True)
        archive = _archive(tmp_path / "b")
        source.query(WRITE_EVENTS.format(n=3))
        source.palpate("audit", "anchor", check=True)  # the newer state is anchored outside the database
        with empty_target(tmp_path) as target:
            assert target.palpate("restore", str(archive)).returncode == 0
            # The restored data directory verifies on its own anchors; now put the newer anchor file back,
            # as happens when an old database is restored into a live installation.
            shutil.copy2(source.data_dir / "audit_anchor.jsonl", target.data_dir / "audit_anchor.jsonl")
            verified = target.palpate("audit", "verify")
            assert verified.returncode == 1
            assert "older database restored over a newer anchor" in verified.stderr


def test_scheduled_backups_are_idempotent_per_slot_and_keep_only_the_newest(tmp_path):
    with install(tmp_path, demo=False, extra_env={"PALPATE_BACKUP_DIR": str(tmp_path / "b"),
                                                  "PALPATE_BACKUP_KEEP": "2"}) as source:
        made = source.query(
            "import json; from palpate.ops.tasks import backup; from palpate.ops.models import Backup\n"
            "for slot in ['2026-01-01T02:30', '2026-01-01T02:30', '2026-01-02T02:30', '2026-01-03T02:30']:\n"
            "    backup.call_local(slot)\n"
            "print(json.dumps([list(Backup.objects.order_by('created_at').values_list('slot', 'pruned'))]))")
        assert made == [[["2026-01-01T02:30", True], ["2026-01-02T02:30", False], ["2026-01-03T02:30", False]]]
        assert len([p for p in (tmp_path / "b").iterdir() if ARCHIVE_PATTERN.match(p.name)]) == 2


@pytest.mark.skipif(os.environ.get("DATABASE_URL", "").startswith("postgres"), reason="SQLite's database file")
def test_an_older_sqlite_file_copied_over_the_live_one_is_reported(tmp_path):
    with install(tmp_path) as source:
        source.palpate("audit", "anchor", check=True)
        old = tmp_path / "old.sqlite3"
        shutil.copy2(source.data_dir / "palpate.sqlite3", old)
        source.query(WRITE_EVENTS.format(n=2))
        source.palpate("audit", "anchor", check=True)
        shutil.copy2(old, source.data_dir / "palpate.sqlite3")
        verified = source.palpate("audit", "verify")
        assert verified.returncode == 1 and "older database restored" in verified.stderr
