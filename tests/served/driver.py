"""Drive a served Palpate (``palpate serve``: gunicorn and its workers) the way a clinic does.

The Django test client runs every request in the test process, so it can never show what only a
real server shows: forked workers, several database connections at once, one request's rows
reaching another process. This module starts the real server on a throw-away data directory (and,
on PostgreSQL, a throw-away database), signs in as the demo staff and runs a bounded mix of what a
clinic does all day from several clients at once: open a chart, open Today, register a patient and
open an episode, and save visit notes. It records every write the server acknowledged, so that the
caller can check afterwards that each one is in the database and that the audit trail verifies.

Used by ``tests/served/test_concurrency.py`` (the CI check), the fault and backup-under-load tests
beside it, and ``benchmarks/load.py``.
Loopback only: the server binds 127.0.0.1 and every request goes there.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

ROOT = Path(__file__).resolve().parents[2]
PALPATE = [sys.executable, "-m", "palpate.cli"]
DEMO_PASSWORD = "palpate-demo"


# -- the server ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Served:
    """A running ``palpate serve`` and what it needs: its environment, URL and log."""

    env: dict[str, str]
    base: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def palpate(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """Run another ``palpate`` command against the same data (e.g. ``audit verify``)."""
        return subprocess.run([*PALPATE, *args], cwd=ROOT, env=self.env, capture_output=True, text=True,
                              timeout=timeout, check=False)

    def query(self, code: str) -> Any:
        """Run Python in a Django shell against the served database; ``code`` prints one JSON value."""
        done = self.palpate("manage", "shell", "-c", code)
        if done.returncode != 0:
            raise RuntimeError(f"query failed: {done.stderr[-2000:]}")
        return json.loads(done.stdout.strip().splitlines()[-1])


def _postgres_database(base_url: str) -> tuple[str, str]:
    """(url of a new empty database beside ``base_url``'s, its name)."""
    name = f"palpate_served_{secrets.token_hex(4)}"
    parts = urlsplit(base_url)
    import psycopg

    with psycopg.connect(base_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return parts._replace(path=f"/{name}").geturl(), name


def _drop_postgres_database(base_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(base_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def served(workers: int = 2, database_url: str | None = None, extra_env: dict[str, str] | None = None,
           start_timeout: float = 600) -> Iterator[Served]:
    """Start ``palpate serve`` exactly as ``make run`` does, on fresh data; stop it and clean up after.

    ``database_url``: a PostgreSQL server to create a fresh database on (dropped afterwards); None
    means SQLite in the throw-away data directory.
    """
    with tempfile.TemporaryDirectory(prefix="palpate-served-") as tmp:
        data = Path(tmp) / "data"
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
        env.update({"PALPATE_DATA_DIR": str(data), "PALPATE_DEMO": "1", "PALPATE_DEMO_PASSWORD": DEMO_PASSWORD,
                    "PYTHONUNBUFFERED": "1", **(extra_env or {})})
        db_name = None
        if database_url:
            env["DATABASE_URL"], db_name = _postgres_database(database_url)
        port = free_port()
        log_path = Path(tmp) / "serve.log"
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                [*PALPATE, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        app = Served(env, f"http://127.0.0.1:{port}", process, log_path)
        try:
            _wait_until_up(app, start_timeout)
            yield app
        finally:
            _stop(process)
            if db_name and database_url:
                _drop_postgres_database(database_url, db_name)


def _wait_until_up(app: Served, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if app.process.poll() is not None:
            raise RuntimeError(f"palpate serve stopped (exit {app.process.returncode}):\n{app.log()[-4000:]}")
        try:
            if requests.get(f"{app.base}/healthz", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"palpate serve did not answer within {timeout:.0f} s:\n{app.log()[-4000:]}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)  # gunicorn, its workers and anything else it started
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


# -- reading forms as a browser does --------------------------------------------------------------


class FormFields(HTMLParser):
    """The name/value pairs a browser would submit for the first ``<form method=post>`` with ``action``."""

    def __init__(self, action: str | None = None) -> None:
        super().__init__(convert_charrefs=True)
        self.action = action
        self.inside = False
        self.done = False
        self.fields: list[tuple[str, str]] = []
        self._select: str | None = None
        self._select_value: str | None = None
        self._first_option: str | None = None
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v or "") for k, v in attrs}
        if tag == "form" and not self.done and a.get("method", "").lower() == "post":
            self.inside = self.action is None or a.get("action", "") in ("", self.action)
            return
        if not self.inside:
            return
        name = a.get("name")
        if tag == "input" and name and "disabled" not in a:
            kind = a.get("type", "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.fields.append((name, a.get("value", "on")))
            elif kind not in ("submit", "button", "file", "image", "reset"):
                self.fields.append((name, a.get("value", "")))
        elif tag == "select" and name:
            self._select, self._select_value, self._first_option = name, None, None
        elif tag == "option" and self._select is not None:
            value = a.get("value", "")
            if self._first_option is None:
                self._first_option = value
            if "selected" in a:
                self._select_value = value
        elif tag == "textarea" and name:
            self._textarea, self._text = name, []

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self.inside:
            self.inside, self.done = False, True
        elif tag == "select" and self._select is not None:
            value = self._select_value if self._select_value is not None else (self._first_option or "")
            self.fields.append((self._select, value))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            text = "".join(self._text)
            self.fields.append((self._textarea, text[1:] if text.startswith("\n") else text))
            self._textarea = None


def form_fields(html: str, action: str | None = None) -> list[tuple[str, str]]:
    parser = FormFields(action)
    parser.feed(html)
    return parser.fields


def replace(fields: list[tuple[str, str]], **values: str) -> list[tuple[str, str]]:
    out = [(k, values[k]) if k in values else (k, v) for k, v in fields]
    missing = set(values) - {k for k, _ in fields}
    return out + [(k, values[k]) for k in sorted(missing)]


# -- one client -----------------------------------------------------------------------------------


class Refused(Exception):
    """The server answered something other than what the step expects (an error of the served app)."""


@dataclass
class Tally:
    """What every client did: counts per step, errors with their cause, acknowledged writes."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    ok: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    latencies: dict[str, list[float]] = field(default_factory=dict)
    patients: list[dict[str, Any]] = field(default_factory=list)  # acknowledged patient registrations
    saves: dict[int, str] = field(default_factory=dict)  # visit pk -> the last acknowledged subjective
    # Every acknowledged save with when it was sent and when it was answered (time.monotonic()), so
    # that a backup taken mid-run can be checked against what had been acknowledged before it began.
    save_log: list[tuple[float, float, int, str]] = field(default_factory=list)

    def record(self, step: str, seconds: float, error: str | None = None) -> None:
        with self.lock:
            if error:
                self.errors.append(f"{step}: {error}")
            else:
                self.ok[step] += 1
                self.latencies.setdefault(step, []).append(seconds)

    @property
    def requests(self) -> int:
        return sum(self.ok.values()) + len(self.errors)


class ClinicClient:
    """One member of staff at a browser: a session, the CSRF token, and the steps of the day."""

    def __init__(self, base: str, username: str, tally: Tally, seed: int) -> None:
        self.base, self.username, self.tally = base, username, tally
        self.http = requests.Session()
        self.random = random.Random(seed)
        self.patients: list[int] = []
        self.visit_url: str | None = None
        self.serial = 0

    def _url(self, path: str) -> str:
        return path if path.startswith("http") else f"{self.base}{path}"

    def get(self, path: str) -> requests.Response:
        answer = self.http.get(self._url(path), allow_redirects=False, timeout=60)
        if answer.status_code != 200:
            raise Refused(f"GET {path} answered {answer.status_code} {answer.headers.get('Location', '')}")
        return answer

    def post(self, path: str, fields: list[tuple[str, str]], expect: str) -> str:
        """POST like a browser (Referer, CSRF token in the form); the answer must redirect to ``expect``."""
        answer = self.http.post(self._url(path), data=fields, allow_redirects=False, timeout=60,
                                headers={"Referer": self._url(path)})
        location = answer.headers.get("Location", "")
        if answer.status_code != 302 or not re.search(expect, location):
            snippet = re.sub(r"\s+", " ", answer.text)[:300] if answer.status_code != 302 else ""
            raise Refused(f"POST {path} answered {answer.status_code} {location} {snippet}".strip())
        return location

    def sign_in(self) -> None:
        page = self.get("/accounts/login/")
        fields = replace(form_fields(page.text), username=self.username, password=DEMO_PASSWORD)
        self.post("/accounts/login/", fields, expect=r"^/$")

    # -- steps -------------------------------------------------------------------------------

    def today(self) -> None:
        page = self.get("/")
        if "Today" not in page.text:
            raise Refused("Today page without its heading")

    def chart(self) -> None:
        if not self.patients:
            self.patients = [int(pk) for pk in re.findall(r'href="/patients/(\d+)/"', self.get("/patients/").text)]
        pk = self.random.choice(self.patients)
        page = self.get(f"/patients/{pk}/")
        if f"/patients/{pk}/" not in page.text:
            raise Refused(f"chart {pk} does not show its own patient")

    def register(self) -> None:
        """A new patient and an episode, through the same forms the front desk uses."""
        self.serial += 1
        family = f"Load{secrets.token_hex(4)}"
        given = f"{self.username.split('-')[0].capitalize()}{self.serial}"
        form = self.get("/patients/new/")
        fields = replace(form_fields(form.text), given_name=given, family_name=family, date_of_birth="1970-05-04",
                         sex="female")
        location = self.post("/patients/new/", fields, expect=r"^/patients/\d+/$")
        pk = int(location.strip("/").split("/")[-1])
        patient = {"pk": pk, "given": given, "family": family, "by": self.username, "episode": False,
                   "at": time.monotonic()}
        with self.tally.lock:
            self.tally.patients.append(patient)
        self.patients.append(pk)
        episode_form = self.get(f"/patients/{pk}/episodes/new/")
        onset = (dt.date.today() - dt.timedelta(days=40)).isoformat()
        fields = replace(form_fields(episode_form.text), condition="low_back_pain", body_region="lower_back", side="",
                         diagnosis="Low back pain, unspecified", icd10_code="M54.50", onset_date=onset,
                         payer="self_pay")
        self.post(f"/patients/{pk}/episodes/new/", fields, expect=rf"^/patients/{pk}/$")
        patient["episode"], patient["episode_at"] = True, time.monotonic()
        if self.visit_url is None:
            self.visit_url = self._start_visit(pk)

    def _start_visit(self, patient_pk: int) -> str:
        chart = self.get(f"/patients/{patient_pk}/").text
        starts = re.findall(rf'action="(/patients/{patient_pk}/visits/start/\d+/)"', chart)
        if not starts:
            raise Refused(f"chart {patient_pk} offers no Start visit")
        page = self.get(starts[0])
        return self.post(starts[0], form_fields(page.text, starts[0]), expect=rf"^/patients/{patient_pk}/visits/\d+/$")

    def save_note(self) -> None:
        """Open this client's draft note, change what was said, save; the answer must confirm the save."""
        if self.visit_url is None:
            self.register()
        assert self.visit_url is not None
        page = self.get(self.visit_url)
        said = f"Reported {secrets.token_hex(6)}"
        fields = replace(form_fields(page.text, self.visit_url), subjective=said,
                         soreness_since_last=str(self.random.randint(0, 4)), soreness_hours="24", relief="some")
        fields = _fill_first_blank_treatment(fields)
        sent = time.monotonic()
        self.post(self.visit_url, fields, expect=re.escape(self.visit_url) + "$")
        visit_pk = int(self.visit_url.strip("/").split("/")[-1])
        with self.tally.lock:
            self.tally.saves[visit_pk] = said
            self.tally.save_log.append((sent, time.monotonic(), visit_pk, said))

    STEPS = (("chart", 4), ("today", 2), ("save_note", 3), ("register", 1))

    def run(self, until: float, stop: threading.Event | None = None) -> None:
        names = [name for name, weight in self.STEPS for _ in range(weight)]
        started = time.perf_counter()
        try:
            self.sign_in()
        except (Refused, requests.RequestException) as problem:
            self.tally.record("sign_in", time.perf_counter() - started, f"{self.username}: {problem}")
            return  # nothing else can work without a session; the error is counted
        self.tally.record("sign_in", time.perf_counter() - started)
        first = True
        while time.monotonic() < until and not (stop is not None and stop.is_set()):
            # Each client first registers a patient and opens its own draft note, then mixes steps.
            step = "register" if first else self.random.choice(names)
            first = False
            started = time.perf_counter()
            try:
                getattr(self, step)()
            except (Refused, requests.RequestException) as problem:
                self.tally.record(step, time.perf_counter() - started, f"{self.username}: {problem}")
            else:
                self.tally.record(step, time.perf_counter() - started)


def _fill_first_blank_treatment(fields: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Give the note one treatment row if it has none (effleurage, light, at the lower back)."""
    values = dict(fields)
    keys = list(dict.fromkeys(m.group(1) for k, _ in fields if (m := re.match(r"^t-([A-Za-z0-9]+)-technique$", k))))
    if any(values.get(f"t-{k}-technique") for k in keys) or not keys:
        return fields
    key = keys[0]
    return replace(fields, **{f"t-{key}-technique": "effleurage", f"t-{key}-region": "lower_back",
                              f"t-{key}-side": "", f"t-{key}-pressure": "light", f"t-{key}-minutes": "8"})


STAFF = ["harbor-pt", "harbor-owner", "summit-pt", "summit-owner"]


def drive(base: str, clients: int = 8, seconds: float = 30.0, seed: int = 1, tally: Tally | None = None,
          stop: threading.Event | None = None) -> Tally:
    """``clients`` members of staff (round-robin over both demo clinics) working for ``seconds``.

    Pass ``tally`` to watch it from another thread while the clients work (fault and backup tests),
    and ``stop`` to end the work early when what the test waits for has happened (``seconds`` is
    then only the upper bound, so a slow machine does not run out of load before the test is done)."""
    tally = tally if tally is not None else Tally()
    until = time.monotonic() + seconds
    threads = [threading.Thread(target=ClinicClient(base, STAFF[i % len(STAFF)], tally, seed * 1000 + i).run,
                                args=(until, stop), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 180)
    return tally


# -- what must hold afterwards --------------------------------------------------------------------


def missing_writes(app: Served, tally: Tally) -> list[str]:
    """Every acknowledged write that is not in the database (an empty list when all are there)."""
    pks = [p["pk"] for p in tally.patients]
    stored = app.query(
        "import json; from palpate.patients.models import Patient; from palpate.visits.models import Visit; "
        f"p = {{x.pk: [x.given_name, x.family_name, x.episodes.count()] for x in Patient.objects.filter(pk__in={pks!r})}}; "
        f"v = {{x.pk: x.subjective for x in Visit.objects.filter(pk__in={list(tally.saves)!r})}}; "
        "print(json.dumps({'patients': p, 'visits': v}))")
    missing = []
    for patient in tally.patients:
        row = stored["patients"].get(str(patient["pk"]))
        if row is None or row[:2] != [patient["given"], patient["family"]]:
            missing.append(f"patient {patient['pk']} ({patient['given']} {patient['family']}): stored as {row}")
        elif patient["episode"] and row[2] < 1:
            missing.append(f"patient {patient['pk']}: its acknowledged episode is missing")
    for visit_pk, said in tally.saves.items():
        if stored["visits"].get(str(visit_pk)) != said:
            missing.append(f"visit {visit_pk}: last acknowledged save said {said!r}, "
                           f"stored {stored['visits'].get(str(visit_pk))!r}")
    return missing


def server_failures(app: Served) -> list[str]:
    """Lines of the server log that show a failure (tracebacks, worker timeouts, 5xx answers)."""
    bad = []
    for line in app.log().splitlines():
        if ("Traceback" in line or "WORKER TIMEOUT" in line or "Worker failed" in line
                or re.search(r'" 5\d\d ', line)):
            bad.append(line)
    return bad


def summary(tally: Tally, seconds: float) -> str:
    steps = ", ".join(f"{name} {count}" for name, count in sorted(tally.ok.items()))
    return (f"{tally.requests} steps in {seconds:.0f} s ({steps}); {len(tally.errors)} errors; "
            f"{len(tally.patients)} patients registered; {len(tally.saves)} notes saved")


def children(pid: int) -> list[int]:
    """Process ids whose parent is ``pid`` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # the command name is in parentheses and may hold spaces: the parent pid follows the last ")"
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def command_line(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def process_tree(app: Served) -> dict[str, list[int]]:
    """The supervisor's children by role: the gunicorn master, its web workers, the background worker."""
    tree: dict[str, list[int]] = {"gunicorn": [], "web_workers": [], "worker": []}
    for pid in children(app.process.pid):
        line = command_line(pid)
        if "gunicorn" in line:
            tree["gunicorn"].append(pid)
            tree["web_workers"] += children(pid)
        elif "palpate.cli worker" in line:
            tree["worker"].append(pid)
    return tree
