"""The calendar's pages read a fixed number of queries, whatever the number of appointments.

The weeks are the ones ``benchmarks/bench_schedule.py`` times (benchmarks/schedule.py): 10
therapists with 2 and with 8 appointments a day. Server time is the benchmark's to measure.
"""

from __future__ import annotations

import pytest
from benchmarks.schedule import build_week
from django.db import connection, reset_queries
from django.test.utils import CaptureQueriesContext

from palpate.scheduling.models import Appointment

pytestmark = pytest.mark.django_db

# The most queries each page may take (13 each when written; Today 10 for the front desk).
BUDGETS = {"clinic week": 14, "clinic day": 14, "therapist week": 14, "Today": 11}


def _counts(client, week) -> dict[str, int]:  # noqa: ANN001
    monday = week.monday.isoformat()
    pages = {"clinic week": f"/schedule/week/{monday}/", "clinic day": f"/schedule/day/{monday}/",
             "therapist week": f"/schedule/week/{monday}/?therapist={week.therapists[0].pk}", "Today": "/"}
    counts = {}
    for label, url in pages.items():
        assert client.get(url).status_code == 200  # warm: the session, the clinic's settings row
        reset_queries()
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        counts[label] = len(captured)
    return counts


def test_a_full_clinic_week_takes_as_many_queries_as_a_quiet_one(client):
    quiet = build_week("quiet", therapists=10, per_day=2)
    client.force_login(quiet.front_desk)
    few = _counts(client, quiet)
    client.logout()

    full = build_week("full", therapists=10, per_day=8)
    assert Appointment.objects.filter(clinic=full.clinic).count() == 400
    client.force_login(full.front_desk)
    many = _counts(client, full)
    body = client.get(f"/schedule/week/{full.monday.isoformat()}/").content.decode()
    assert body.count('class="cal-block appt') == 400

    assert few == many, f"queries grew with the appointments (80, 400): {few} {many}"
    over = {label: (count, BUDGETS[label]) for label, count in many.items() if count > BUDGETS[label]}
    assert not over, f"pages over their query budget (queries, budget): {over}"
