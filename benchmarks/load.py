"""The served app under load, as a benchmark: throughput and latency per step.

Starts ``palpate serve`` (gunicorn with its workers, and the background worker when the code has
one) on a throw-away data directory or PostgreSQL database, drives it with the clients of
``tests/served/driver.py`` (charts, Today, registrations, note saves) and prints what it measured.
``--src DIR`` runs another checkout's ``src`` (e.g. the code before a change) against the same driver:

    git archive <commit> src | tar -x -C /tmp/before
    .venv/bin/python -m benchmarks.load --src /tmp/before/src
    .venv/bin/python -m benchmarks.load --database-url postgres://user:pass@127.0.0.1:5432/postgres

Loopback only. Not part of ``make bench`` (each run takes ``--seconds`` plus start-up).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.served import driver  # noqa: E402


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))] if ordered else float("nan")


MIXES = {
    "standard": driver.ClinicClient.STEPS,  # what the CI test runs: charts, Today, note saves, registrations
    "reads": (("chart", 4), ("today", 2)),  # audited page views only (after each client's first registration)
}


def run(seconds: float, clients: int, workers: int, database_url: str | None, src: str | None,
        mix: str = "standard", env: dict[str, str] | None = None) -> dict[str, object]:
    extra = {**({"PYTHONPATH": src} if src else {}), **(env or {})}
    driver.ClinicClient.STEPS = MIXES[mix]
    with driver.served(workers=workers, database_url=database_url, extra_env=extra) as app:
        tally = driver.drive(app.base, clients=clients, seconds=seconds)
        staged = None
        if not src:
            staged = app.query("import json; from palpate.audit.models import AuditRead; "
                               "print(json.dumps(AuditRead.objects.count()))")
        verified = app.palpate("audit", "verify").returncode == 0
    steps = {}
    for step, latencies in sorted(tally.latencies.items()):
        steps[step] = {"count": len(latencies), "p50_ms": round(statistics.median(latencies) * 1000, 1),
                       "p95_ms": round(percentile(latencies, 0.95) * 1000, 1),
                       "max_ms": round(max(latencies) * 1000, 1)}
    return {"steps_per_second": round(sum(tally.ok.values()) / seconds, 1), "errors": len(tally.errors),
            "steps": steps, "audit_verifies": verified, "reads_waiting_at_end": staged}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url", default=None, help="a PostgreSQL server (a fresh database is made on it)")
    parser.add_argument("--src", default=None, help="run this src directory instead of the installed code")
    parser.add_argument("--mix", choices=sorted(MIXES), default="standard")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE", help="extra environment for serve")
    args = parser.parse_args()
    env = dict(item.split("=", 1) for item in args.env)
    print(json.dumps(run(args.seconds, args.clients, args.workers, args.database_url, args.src, args.mix, env)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
