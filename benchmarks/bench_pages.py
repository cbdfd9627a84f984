"""Server time and queries of the main screens for a patient with 100 signed visits.

The issue's targets: no page over 100 ms of server time, and query counts that do not grow with the
number of visits (the latter is also a test: tests/web/test_page_budgets.py). Server time is the
time Django's test client takes for the request (middleware, view, queries, template), without a
network or a browser; each page is requested a few times to warm up, then ``REPEAT`` times, and
the median is reported.

The measurement runs in a child process on a fresh SQLite data directory (migrated, demo data
seeded, then the patient's history written through the services), which is deleted afterwards,
so it never touches the developer's own database. ``python -m benchmarks.bench_pages`` prints a
table; ``make bench`` picks up ``run()``.
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

VISITS = 100
WARMUP = 2
REPEAT = 11
BUDGET_MS = 100.0
ROOT = Path(__file__).resolve().parents[1]


def run() -> list[tuple[str, float, str]]:
    rows: list[tuple[str, float, str]] = []
    for page in measure():
        rows.append((f"{page['label']}: median server time", page["median_ms"], "ms"))
        rows.append((f"{page['label']}: queries", float(page["queries"]), "queries"))
    return rows


def measure(visits: int = VISITS) -> list[dict[str, Any]]:
    """Run the measurement in a child process on a throw-away data directory."""
    with tempfile.TemporaryDirectory(prefix="palpate-bench-") as data_dir:
        env = {**os.environ, "PALPATE_DATA_DIR": data_dir, "DJANGO_SETTINGS_MODULE": "palpate.web.settings",
               "ALLOWED_HOSTS": "testserver,localhost", "DEBUG": "0", "PALPATE_DEMO_PASSWORD": "palpate-demo",
               "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH", "")]))}
        env.pop("DATABASE_URL", None)
        done = subprocess.run([sys.executable, "-m", "benchmarks.bench_pages", "--child", str(visits)], cwd=ROOT,
                              env=env, capture_output=True, text=True, timeout=900, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"page benchmark failed:\n{done.stderr[-4000:]}")
        return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def _child(visits: int) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from benchmarks.history import build_history, first_day_for
    from benchmarks.pages import main_pages, prepare, send, start_draft
    from palpate.clinics.actor import Actor
    from palpate.clinics.models import Membership
    from palpate.demo.seed import seed_demo

    call_command("migrate", interactive=False, verbosity=0)
    seed_demo()
    membership = Membership.objects.select_related("user", "clinic").get(user__username="harbor-pt",
                                                                          clinic__slug="harbor")
    started = time.perf_counter()
    history = build_history(Actor.of(membership), visits, first=first_day_for(visits, timezone.localdate()))
    print(f"history of {visits} visits written in {time.perf_counter() - started:.1f} s", file=sys.stderr)

    client = Client()
    client.force_login(membership.user)
    draft = start_draft(client, history)
    for page in main_pages(client, history, draft):
        for _ in range(WARMUP):
            send(client, page, prepare(page))
        body = prepare(page)
        with CaptureQueriesContext(connection) as captured:
            send(client, page, body)
        queries = len(captured)  # now: the next request empties the connection's query log
        samples = []
        for _ in range(REPEAT):
            body = prepare(page)
            start = time.perf_counter()
            send(client, page, body)
            samples.append((time.perf_counter() - start) * 1000)
        print(json.dumps({"label": page.label, "method": page.method.upper(), "url": page.url,
                          "median_ms": round(statistics.median(samples), 1), "min_ms": round(min(samples), 1),
                          "max_ms": round(max(samples), 1), "queries": queries}), flush=True)


def main() -> int:
    if len(sys.argv) >= 2 and sys.argv[1] == "--child":
        _child(int(sys.argv[2]) if len(sys.argv) > 2 else VISITS)
        return 0
    pages = measure()
    print(f"Server time with {VISITS} signed visits (median of {REPEAT}; budget {BUDGET_MS:.0f} ms):")
    print(f"  {'page':<40} {'median':>8} {'min':>8} {'max':>8} {'queries':>8}")
    for p in pages:
        flag = "" if p["median_ms"] <= BUDGET_MS else "  over budget"
        print(f"  {p['label']:<40} {p['median_ms']:>6.1f}ms {p['min_ms']:>6.1f}ms {p['max_ms']:>6.1f}ms "
              f"{p['queries']:>8}{flag}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
