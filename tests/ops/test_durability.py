"""Private files and durable commits: data directory 0700, database, WAL and keys 0600, synchronous=FULL."""

from __future__ import annotations

import stat

import pytest

from tests.ops.installs import install, postgres_url


def _mode(path) -> int:  # noqa: ANN001
    return stat.S_IMODE(path.stat().st_mode)


SYNC = ("import json; from django.db import connection; c = connection.cursor(); c.execute('PRAGMA synchronous'); "
        "print(json.dumps(c.fetchone()[0]))")


def test_the_data_directory_and_everything_secret_in_it_are_private(tmp_path):
    with install(tmp_path, demo=True) as inst:
        inst.palpate("audit", "anchor", check=True)
        assert _mode(inst.data_dir) == 0o700
        names = ["secret_key", "audit_key", "audit_anchor.jsonl", "huey.sqlite3"]
        if not inst.database_url:
            names += ["palpate.sqlite3"]
        for name in names:
            assert _mode(inst.data_dir / name) == 0o600, name
        for wal in inst.data_dir.glob("*-wal"):
            assert _mode(wal) == 0o600, wal.name


@pytest.mark.skipif(bool(postgres_url()), reason="synchronous is SQLite's setting; PostgreSQL keeps its own")
def test_sqlite_commits_with_synchronous_full_unless_the_operator_accepts_the_risk(tmp_path):
    with install(tmp_path, demo=False) as inst:
        assert inst.query(SYNC) == 2  # FULL
        inst.extra_env["PALPATE_SQLITE_SYNCHRONOUS"] = "NORMAL"
        assert inst.query(SYNC) == 1
        inst.extra_env["PALPATE_SQLITE_SYNCHRONOUS"] = "sometimes"
        refused = inst.palpate("check")
        assert refused.returncode != 0 and "PALPATE_SQLITE_SYNCHRONOUS must be FULL, EXTRA or NORMAL" in refused.stderr
