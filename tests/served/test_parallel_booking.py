"""Many front desks book the same slot at once on the served app: exactly one appointment, on SQLite and PostgreSQL.

``palpate serve`` (gunicorn, 2 workers) on fresh data (SQLite) or a fresh database (PostgreSQL when
``DATABASE_URL`` points at one: the CI leg). Sixteen signed-in clients, each its own session and
connection, post the same therapist's slot for sixteen different patients through the JSON API at
the same moment. One gets 201; every other gets 409 ``therapist_busy`` with the next free slot;
the database holds one appointment there, and the audit trail verifies.
"""

from __future__ import annotations

import os
import threading

import pytest
import requests

from tests.served import driver

pytestmark = pytest.mark.served

CLIENTS = 16


def _postgres_url() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith(("postgres://", "postgresql://")) else None


def _signed_in(base: str) -> requests.Session:
    client = driver.ClinicClient(base, "harbor-desk", driver.Tally(), seed=1)
    client.sign_in()
    session = client.http
    session.headers["X-CSRFToken"] = session.cookies["csrftoken"]
    return session


def test_sixteen_parallel_bookings_of_one_slot_give_exactly_one_appointment() -> None:
    with driver.served(workers=2, database_url=_postgres_url()) as app:
        facts = app.query(
            "import json\n"
            "from palpate.patients.models import Episode\n"
            "from django.contrib.auth import get_user_model\n"
            "pt = get_user_model().objects.get(username='harbor-pt')\n"
            "eps = list(Episode.objects.filter(clinic__slug='harbor', status='active')"
            ".order_by('id').values_list('id', flat=True))\n"
            "print(json.dumps({'therapist': pt.pk, 'episodes': eps}))")
        episodes = facts["episodes"]
        assert len(episodes) >= CLIENTS, facts
        sessions = [_signed_in(app.base) for _ in range(CLIENTS)]
        free = sessions[0].get(f"{app.base}/api/schedule/next-free",
                               params={"therapist_id": facts["therapist"], "minutes": 45}, timeout=30)
        assert free.status_code == 200, free.text
        slot = free.json()

        gate = threading.Barrier(CLIENTS)
        answers: list[requests.Response | str] = []
        lock = threading.Lock()

        def book(index: int) -> None:
            body = {"episode_id": episodes[index % len(episodes)], "therapist_id": facts["therapist"],
                    "starts_at": slot["starts_at"], "minutes": 45, "confirm_over_authorization": True}
            try:
                gate.wait(30)
                answer: requests.Response | str = sessions[index].post(f"{app.base}/api/appointments", json=body,
                                                                       timeout=60)
            except (requests.RequestException, threading.BrokenBarrierError) as problem:
                answer = repr(problem)
            with lock:
                answers.append(answer)

        threads = [threading.Thread(target=book, args=(i,)) for i in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)

        statuses = sorted(a.status_code if isinstance(a, requests.Response) else a for a in answers)
        assert statuses == [201] + [409] * (CLIENTS - 1), statuses
        refusals = [a.json() for a in answers if isinstance(a, requests.Response) and a.status_code == 409]
        assert {r["code"] for r in refusals} == {"therapist_busy"}
        assert all(r["next_free"] and r["next_free"]["starts_at"] != slot["starts_at"] for r in refusals)
        held = app.query(
            "import json, datetime as dt\n"
            "from palpate.scheduling.models import Appointment\n"
            f"start = dt.datetime.fromisoformat({slot['starts_at']!r})\n"
            f"print(json.dumps(Appointment.objects.filter(therapist_id={facts['therapist']}, starts_at__lt="
            "start + dt.timedelta(minutes=45), ends_at__gt=start, status='booked').count()))")
        assert held == 1
        assert driver.server_failures(app) == []
        verified = app.palpate("audit", "verify")
        assert verified.returncode == 0, verified.stdout + verified.stderr
