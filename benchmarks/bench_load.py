"""The served app under load: server CPU per request, as a multiple of ``/healthz`` in the same run.

``palpate serve`` (gunicorn, 2 workers, exactly as ``make run`` starts it) runs on a throw-away data
directory with the demo loaded (``tests/served/driver.py`` starts and stops it). Each client signs
in as one of the demo staff, registers a patient and opens its own draft visit note. Then, for 8
and for 32 clients, one kind of request at a time is sent by every client in a closed loop for a
few seconds:

- ``healthz``: ``GET /healthz`` without a session (what a load balancer asks);
- ``today``: the Today page; ``chart``: a demo patient's chart; ``search``: the patient search;
- ``save``: "Save draft" of the client's own note (a POST with the note as the browser sends it);
- ``mix``: the four above mixed as a clinic's day mixes them (chart 4, Today 2, save 3, search 1),
  with latency percentiles per kind of request.

Server CPU per request is the CPU time the gunicorn workers used during the phase (user + system,
read from ``/proc``) divided by the requests answered, so the client's own work and the time spent
waiting in a queue do not count. Because the machine, the Python and the database are the same
within one run, the ratio to ``/healthz`` is the figure to compare between runs; the absolute
milliseconds depend on the machine. Latency percentiles are as the clients saw them (queueing
included), which is what a user at 32 busy clients meets.

Linux only (``/proc``). ``python -m benchmarks.bench_load`` prints a table; ``make bench`` runs it.
``PALPATE_BENCH_LOAD_SECONDS`` sets the length of each phase (default 8);
``PALPATE_BENCH_DATABASE_URL`` (a PostgreSQL server) runs it on a throw-away PostgreSQL database.
"""

from __future__ import annotations

import os
import re
import secrets
import statistics
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import requests
from tests.served import driver

CLIENT_COUNTS = (8, 32)
STEPS = ("healthz", "today", "chart", "search", "save", "mix")
# The mix of a clinic's day, as tests/served/driver.py weighs it (registration aside).
MIX = ("chart",) * 4 + ("today",) * 2 + ("save",) * 3 + ("search",)
WORKERS = 2


def phase_seconds() -> float:
    return float(os.environ.get("PALPATE_BENCH_LOAD_SECONDS", "8"))


def worker_cpu_seconds(master_pid: int) -> float:
    """User + system CPU time of every process whose parent is the gunicorn master."""
    ticks = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                stat = fh.read()
        except OSError:
            continue  # the process ended meanwhile
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == master_pid:
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


class LoadClient(driver.ClinicClient):
    """A signed-in member of staff with a draft note of their own, who repeats one step."""

    def __init__(self, base: str, username: str, tally: driver.Tally, seed: int) -> None:
        super().__init__(base, username, tally, seed)
        self.anonymous = requests.Session()
        self.save_fields: list[tuple[str, str]] = []
        self.version = 0
        self.saves = 0
        self.query = ""

    def set_up(self) -> None:
        self.sign_in()
        self.register()  # a patient, an episode and today's draft note (self.visit_url)
        assert self.visit_url is not None
        page = self.get(self.visit_url)
        fields = driver.replace(driver.form_fields(page.text, self.visit_url), soreness_since_last="2",
                                soreness_hours="24", relief="some")
        self.save_fields = driver._fill_first_blank_treatment(fields)
        self.version = int(dict(self.save_fields)["version"])
        names = [p for p in re.findall(r">([A-Z][a-z]+), [A-Z][a-z]+</a>", self.get("/patients/").text)]
        self.query = (self.random.choice(names) if names else "Garcia")[:4].lower()

    def healthz(self) -> None:
        answer = self.anonymous.get(f"{self.base}/healthz", timeout=60)
        if answer.status_code != 200:
            raise driver.Refused(f"/healthz answered {answer.status_code}")

    def search(self) -> None:
        self.get(f"/patients/?q={self.query}")

    def save(self) -> None:
        assert self.visit_url is not None
        self.saves += 1
        fields = driver.replace(self.save_fields, version=str(self.version),
                                subjective=f"Load save {self.saves} {secrets.token_hex(3)}")
        self.post(self.visit_url, fields, expect=re.escape(self.visit_url) + "$")
        self.version += 1  # nobody else edits this client's draft


@dataclass
class Phase:
    step: str
    clients: int
    seconds: float
    requests: int
    errors: list[str]
    cpu_seconds: float
    latencies: list[float] = field(repr=False)
    by_step: dict[str, list[float]] = field(default_factory=dict, repr=False)

    @property
    def cpu_ms(self) -> float:
        return 1000 * self.cpu_seconds / max(1, self.requests)

    def percentile(self, q: float, step: str | None = None) -> float:
        samples = self.latencies if step is None else self.by_step.get(step, [])
        if not samples:
            return float("nan")
        ordered = sorted(samples)
        return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds


def run_phase(master_pid: int, clients: list[LoadClient], step: str, seconds: float) -> Phase:
    latencies: list[float] = []
    by_step: dict[str, list[float]] = {}
    errors: list[str] = []
    lock = threading.Lock()
    until = time.monotonic() + seconds

    def loop(client: LoadClient) -> None:
        while time.monotonic() < until:
            name = client.random.choice(MIX) if step == "mix" else step
            act: Callable[[], None] = getattr(client, name)
            started = time.perf_counter()
            try:
                act()
            except (driver.Refused, requests.RequestException) as problem:
                with lock:
                    errors.append(f"{client.username}: {problem}")
            else:
                took = time.perf_counter() - started
                with lock:
                    latencies.append(took)
                    by_step.setdefault(name, []).append(took)

    cpu_before = worker_cpu_seconds(master_pid)
    started = time.perf_counter()
    threads = [threading.Thread(target=loop, args=(c,), daemon=True) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 120)
    elapsed = time.perf_counter() - started
    cpu = worker_cpu_seconds(master_pid) - cpu_before
    return Phase(step, len(clients), elapsed, len(latencies), errors, cpu, latencies, by_step)


def measure(client_counts: tuple[int, ...] = CLIENT_COUNTS, seconds: float | None = None,
            database_url: str | None = None) -> list[Phase]:
    seconds = phase_seconds() if seconds is None else seconds
    phases: list[Phase] = []
    with driver.served(workers=WORKERS, database_url=database_url) as app:
        tally = driver.Tally()
        clients = [LoadClient(app.base, driver.STAFF[i % len(driver.STAFF)], tally, 7000 + i)
                   for i in range(max(client_counts))]
        for client in clients:
            client.set_up()
        master = app.process.pid
        for count in client_counts:
            for step in STEPS:
                phase = run_phase(master, clients[:count], step, seconds)
                if phase.errors:
                    raise RuntimeError(f"{step} with {count} clients: {phase.errors[:5]}")
                phases.append(phase)
        failures = driver.server_failures(app)
        if failures:
            raise RuntimeError("the server logged failures:\n" + "\n".join(failures[:20]))
    return phases


def run() -> list[tuple[str, float, str]]:
    rows: list[tuple[str, float, str]] = []
    phases = measure(database_url=os.environ.get("PALPATE_BENCH_DATABASE_URL") or None)
    health = {p.clients: p.cpu_ms for p in phases if p.step == "healthz"}
    for p in phases:
        label = f"{p.step} at {p.clients} clients"
        rows.append((f"{label}: server CPU per request", p.cpu_ms, "ms"))
        if p.step != "healthz":
            rows.append((f"{label}: CPU as a multiple of /healthz", p.cpu_ms / health[p.clients], "x"))
        rows.append((f"{label}: p99 latency", p.percentile(0.99), "ms"))
        if p.step == "mix":
            for name in sorted(p.by_step):
                rows.append((f"{label}: {name} p99 latency", p.percentile(0.99, name), "ms"))
    return rows


def main() -> int:
    url = os.environ.get("PALPATE_BENCH_DATABASE_URL") or None
    phases = measure(database_url=url)
    health = {p.clients: p.cpu_ms for p in phases if p.step == "healthz"}
    print(f"palpate serve, {WORKERS} workers, {'PostgreSQL' if url else 'SQLite'}, {os.cpu_count()} CPUs, "
          f"{phase_seconds():.0f} s per phase")
    print(f"  {'step':<8} {'clients':>7} {'req/s':>7} {'CPU ms/req':>10} {'x healthz':>9} {'p50 ms':>8} "
          f"{'p99 ms':>8}")
    for p in phases:
        ratio = p.cpu_ms / health[p.clients]
        print(f"  {p.step:<8} {p.clients:>7} {p.throughput:>7.0f} {p.cpu_ms:>10.2f} {ratio:>9.1f} "
              f"{p.percentile(0.5):>8.1f} {p.percentile(0.99):>8.1f}")
    for p in phases:
        if p.step == "mix":
            each = ", ".join(f"{name} p50 {p.percentile(0.5, name):.0f} / p99 {p.percentile(0.99, name):.0f} ms"
                             for name in sorted(p.by_step))
            print(f"  mix at {p.clients} clients: {each}")
    median_ratio = statistics.median(p.cpu_ms / health[p.clients] for p in phases if p.step == "save")
    print(f"save: {median_ratio:.1f} x /healthz (median over client counts)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
