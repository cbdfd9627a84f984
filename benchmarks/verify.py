"""How long ``palpate audit verify`` takes, full and incremental from the last anchor.

On a throw-away SQLite data directory (or ``--database-url``, a PostgreSQL server on which a fresh
database is made): one clinic, ``--events`` audit events (reads, staged and folded as the worker
does), an anchor, then 200 more events; then the incremental check (from the anchor) and the full
one are timed, three times each, and the medians printed.

    .venv/bin/python -m benchmarks.verify --events 100000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

INSIDE = r"""
import json, statistics, time
from django.db import transaction
from palpate.accounts.models import User
from palpate.audit.anchor import anchor_now
from palpate.audit.services import fold_reads, record_read, verify_chain
from palpate.clinics.actor import Actor
from palpate.clinics.models import Clinic, Membership

clinic = Clinic.objects.create(name="Bench", slug="bench")
user = User.objects.create_user(username="bench", password="not used here 1")
actor = Actor.of(Membership.objects.create(clinic=clinic, user=user, role="therapist"))

def reads(n):
    for start in range(0, n, 1000):
        with transaction.atomic():
            for i in range(start, min(n, start + 1000)):
                record_read(actor, "patient.view", patient_id=i % 500 + 1, detail={"tab": "chart"})
        fold_reads(batch=1000)

reads(EVENTS)
anchor_now()
reads(200)

def timed(full):
    samples = []
    for _ in range(3):
        started = time.perf_counter()
        report = verify_chain(full=full)
        samples.append(time.perf_counter() - started)
        assert report.ok, report.first_break
    return report.events_checked, statistics.median(samples)

inc_events, inc = timed(False)
full_events, full = timed(True)
print(json.dumps({"events": full_events, "incremental_events_read": inc_events, "incremental_s": round(inc, 4),
                  "full_s": round(full, 3)}))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from tests.ops.installs import Install, database

    with tempfile.TemporaryDirectory(prefix="palpate-verify-bench-") as tmp, database(args.database_url) as url:
        inst = Install(Path(tmp) / "data", url, {"PALPATE_DEMO": "0"})
        inst.palpate("prepare", check=True)
        done = subprocess.run([sys.executable, "-m", "palpate.cli", "manage", "shell", "-c",
                               INSIDE.replace("EVENTS", str(args.events))],
                              cwd=ROOT, env=inst.env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            print(done.stderr[-3000:], file=sys.stderr)
            return 1
        print(json.dumps(json.loads(done.stdout.strip().splitlines()[-1]), indent=2))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PALPATE_LOG_FORMAT", "text")
    sys.exit(main())
