"""Audited reads from many processes at once: through the chain head (before) or staged (now).

The served load test measures whole pages, which on a small machine are bound by rendering, not by
the audit trail. This measures the part that changed: ``--processes`` separate processes (as
gunicorn workers are) record audited reads of one clinic as fast as they can for ``--seconds``,
either the old way (``chained``: a transaction that takes the clinic's chain head, appends the
event and moves the head) or the new way (``staged``: one keyed row inserted without the head).
It prints reads per second and the latency of one audited read. ``--pause-ms`` leaves each
process that long between reads (the rest of a page's work), as a served app does.

    .venv/bin/python -m benchmarks.audit_reads
    .venv/bin/python -m benchmarks.audit_reads --database-url postgres://user:pass@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SETUP = r"""
import json
from palpate.accounts.models import User
from palpate.clinics.models import Clinic, Membership
clinic = Clinic.objects.create(name="Bench", slug="bench")
user = User.objects.create_user(username="bench", password="not used here 1")
Membership.objects.create(clinic=clinic, user=user, role="therapist")
print(json.dumps(True))
"""

WORKER = r"""
import json, time
from django.db import transaction
from palpate.audit.services import record_event, record_read
from palpate.clinics.actor import Actor
from palpate.clinics.models import Membership
actor = Actor.of(Membership.objects.select_related("clinic", "user").get(user__username="bench"))
mode, start, until, pause = "MODE", START, UNTIL, PAUSE

def chained():
    with transaction.atomic():
        record_event(actor=actor, action="patient.view", patient_id=7, new={"tab": "chart"})

def staged():
    record_read(actor, "patient.view", patient_id=7, detail={"tab": "chart"})

call = chained if mode == "chained" else staged
call()  # connect before the clock starts
while time.time() < start:
    time.sleep(0.001)
latencies = []
while time.time() < until:
    t = time.perf_counter()
    call()
    latencies.append(time.perf_counter() - t)
    if pause:
        time.sleep(pause)  # the rest of a page's work between two audited reads
print(json.dumps(latencies))
"""


def measure(inst: object, mode: str, processes: int, seconds: float, pause_ms: float = 0) -> dict[str, float]:
    start = time.time() + 3
    until = start + seconds
    code = (WORKER.replace("MODE", mode).replace("START", repr(start)).replace("UNTIL", repr(until))
            .replace("PAUSE", repr(pause_ms / 1000)))
    procs = [subprocess.Popen([sys.executable, "-m", "palpate.cli", "manage", "shell", "-c", code], cwd=ROOT,
                              env=inst.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # type: ignore[attr-defined]
             for _ in range(processes)]
    latencies: list[float] = []
    for proc in procs:
        out, err = proc.communicate(timeout=seconds + 120)
        if proc.returncode != 0:
            raise RuntimeError(err[-2000:])
        latencies += json.loads(out.strip().splitlines()[-1])
    latencies.sort()
    return {"reads_per_second": round(len(latencies) / seconds, 1),
            "p50_ms": round(statistics.median(latencies) * 1000, 2),
            "p95_ms": round(latencies[int(0.95 * (len(latencies) - 1))] * 1000, 2),
            "p99_ms": round(latencies[int(0.99 * (len(latencies) - 1))] * 1000, 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--processes", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pause-ms", type=float, default=0, help="pause between two reads of one process")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from tests.ops.installs import Install, database

    with tempfile.TemporaryDirectory(prefix="palpate-reads-bench-") as tmp, database(args.database_url) as url:
        inst = Install(Path(tmp) / "data", url, {"PALPATE_DEMO": "0", "PALPATE_LOG_FORMAT": "text",
                                                 **dict(e.split("=", 1) for e in args.env)})
        inst.palpate("prepare", check=True)
        inst.query(SETUP)
        for round_ in range(1, args.rounds + 1):
            for mode in ("chained", "staged"):
                print(json.dumps({"round": round_, "mode": mode, "load": os.getloadavg()[0],
                                  **measure(inst, mode, args.processes, args.seconds, args.pause_ms)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
