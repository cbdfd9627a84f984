"""The clinic's calendar with a full week, and booking a series from a plan of care.

Targets (issue 14): a clinic week of 10 therapists x 8 appointments a day x 5 days renders in under
100 ms of server time, with a query count that does not grow with the number of appointments (also
a test: tests/scheduling/test_budgets.py); booking a 12-visit series takes under 200 ms.

Runs in a child process on a throw-away SQLite data directory, and, when ``DATABASE_URL`` points at
PostgreSQL, again on a throw-away database beside it. Server time is the Django test client's
request time (middleware, view, queries, template; no network, no browser), the median of
``REPEAT`` after ``WARMUP``. The series is booked through ``services.do_book_series`` (the check,
12 inserts, the audit event) for a new patient each time, on a therapist whose week is free.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

WARMUP = 2
REPEAT = 11
PAGE_BUDGET_MS = 100.0
SERIES_BUDGET_MS = 200.0
ROOT = Path(__file__).resolve().parents[1]


def run() -> list[tuple[str, float, str]]:
    rows: list[tuple[str, float, str]] = []
    for database, results in measure().items():
        for r in results:
            rows.append((f"{database}: {r['label']}: median", r["median_ms"], "ms"))
            rows.append((f"{database}: {r['label']}: CPU median", r["cpu_ms"], "ms"))
            if "queries" in r:
                rows.append((f"{database}: {r['label']}: queries", float(r["queries"]), "queries"))
    return rows


def measure() -> dict[str, list[dict[str, Any]]]:
    out = {"SQLite": _in_child(None)}
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        from tests.served.driver import _drop_postgres_database, _postgres_database

        database_url, name = _postgres_database(url)
        try:
            out["PostgreSQL"] = _in_child(database_url)
        finally:
            _drop_postgres_database(url, name)
    return out


def _in_child(database_url: str | None) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="palpate-bench-") as data_dir:
        env = {**os.environ, "PALPATE_DATA_DIR": data_dir, "DJANGO_SETTINGS_MODULE": "palpate.web.settings",
               "ALLOWED_HOSTS": "testserver,localhost", "DEBUG": "0",
               "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH", "")]))}
        env.pop("DATABASE_URL", None)
        if database_url:
            env["DATABASE_URL"] = database_url
        done = subprocess.run([sys.executable, "-m", "benchmarks.bench_schedule", "--child"], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=900, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"schedule benchmark failed:\n{done.stderr[-4000:]}")
        return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def _timed(fn: Any, repeat: int = REPEAT) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU milliseconds of each call. On a busy shared machine the wall clock includes
    waiting for a core; the CPU time of this process does not (the PostgreSQL server's own is not in it)."""
    wall, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return wall, cpu


def _row(label: str, wall: list[float], cpu: list[float], **extra: Any) -> str:
    return json.dumps({"label": label, "median_ms": round(statistics.median(wall), 1), "min_ms": round(min(wall), 1),
                       "max_ms": round(max(wall), 1), "cpu_ms": round(statistics.median(cpu), 1), **extra})


def _child() -> None:
    import datetime as dt

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from benchmarks.schedule import build_week, series_plan
    from palpate.clinics.actor import Actor
    from palpate.clinics.models import Membership
    from palpate.scheduling import services

    call_command("migrate", interactive=False, verbosity=0)
    week = build_week()
    client = Client()
    client.force_login(week.front_desk)
    monday = week.monday.isoformat()
    pages = [("clinic week (10 therapists, 400 appointments)", f"/schedule/week/{monday}/"),
             ("clinic day (10 columns, 80 appointments)", f"/schedule/day/{monday}/"),
             ("one therapist's week (40 appointments)", f"/schedule/week/{monday}/?therapist={week.therapists[0].pk}"),
             ("Today (front desk)", "/")]
    for label, url in pages:
        for _ in range(WARMUP):
            assert client.get(url).status_code == 200
        reset_queries()  # each request clears the log as it starts: measure from an empty one
        with CaptureQueriesContext(connection) as captured:
            client.get(url)
        queries = len(captured)  # now: the slice reads the live log, which the next request empties
        wall, cpu = _timed(lambda url=url: client.get(url))
        print(_row(label, wall, cpu, queries=queries), flush=True)

    desk = Actor.of(Membership.objects.select_related("user", "clinic").get(user=week.front_desk))
    therapist = week.therapists[-1]
    # A free stretch for the series: the weeks after the full one (3 a week for 4 weeks).
    first = week.monday + dt.timedelta(days=7)
    slots = [(0, dt.time(8)), (2, dt.time(8)), (4, dt.time(8))]
    samples, cpu_samples, placed = [], [], []
    assert WARMUP + REPEAT <= 13, "13 series of 45 minutes fill the day"
    for number in range(WARMUP + REPEAT):
        plan = series_plan(week.clinic, therapist, first, number)
        # Each series at its own 45 minutes of the day (08:00, 08:45 ... 17:15): none collides with another.
        hour = (dt.datetime(2000, 1, 1, 8) + dt.timedelta(minutes=45 * number)).time()
        request = services.SeriesRequest(plan=plan, therapist_id=therapist.pk, slots=[(w, hour) for w, _ in slots],
                                         first_day=first, minutes=45)
        start, start_cpu = time.perf_counter(), time.process_time()
        outcome = services.do_book_series(desk, request)
        elapsed, elapsed_cpu = (time.perf_counter() - start) * 1000, (time.process_time() - start_cpu) * 1000
        placed.append(len(outcome.appointments))
        if number >= WARMUP:
            samples.append(elapsed)
            cpu_samples.append(elapsed_cpu)
    assert set(placed[WARMUP:]) == {12}, placed
    print(_row("book a 12-visit series from a plan", samples, cpu_samples), flush=True)


def main() -> int:
    if len(sys.argv) >= 2 and sys.argv[1] == "--child":
        _child()
        return 0
    for database, results in measure().items():
        print(f"{database} (median of {REPEAT}; budgets: pages {PAGE_BUDGET_MS:.0f} ms, series {SERIES_BUDGET_MS:.0f} ms):")
        for r in results:
            queries = f"{r['queries']:>5} queries" if "queries" in r else ""
            print(f"  {r['label']:<46} {r['median_ms']:>6.1f} ms (min {r['min_ms']:.1f}, max {r['max_ms']:.1f}; "
                  f"CPU {r['cpu_ms']:.1f}) {queries}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
