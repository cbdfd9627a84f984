"""The served app under concurrent clients: what the test client, which never forks, cannot show.

``palpate serve`` starts exactly as ``make run`` starts it (2 gunicorn workers) on a fresh data
directory (SQLite) or a fresh database (PostgreSQL, when ``DATABASE_URL`` points at one: the CI
leg). Eight clients of both demo clinics then work for about 30 seconds (charts, Today, patient
registration, visit-note saves). Afterwards nothing may have failed, every write the server
acknowledged must be in the database, and the audit trail must verify.
"""

from __future__ import annotations

import os

import pytest

from tests.served import driver

pytestmark = pytest.mark.served

SECONDS = float(os.environ.get("PALPATE_LOAD_SECONDS", "30"))
CLIENTS = 8


def _postgres_url() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith(("postgres://", "postgresql://")) else None


def test_the_served_app_loses_nothing_and_fails_nothing_under_eight_clients() -> None:
    with driver.served(workers=2, database_url=_postgres_url()) as app:
        tally = driver.drive(app.base, clients=CLIENTS, seconds=SECONDS)
        report = driver.summary(tally, SECONDS)
        print(report)

        assert tally.errors == [], report + "\n" + "\n".join(tally.errors[:20])
        # The load was real: every client signed in and each kind of step ran many times.
        assert tally.ok["sign_in"] == CLIENTS
        for step in ("chart", "today", "save_note", "register"):
            assert tally.ok[step] >= 10, report
        assert len(tally.saves) == CLIENTS, report

        assert driver.missing_writes(app, tally) == []
        assert driver.server_failures(app) == []
        verified = app.palpate("audit", "verify")
        assert verified.returncode == 0, verified.stdout + verified.stderr
        assert "intact" in verified.stdout
