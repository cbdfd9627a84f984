"""Documentation speed: how many actions a routine follow-up visit takes, counted in a real browser.

``.venv/bin/python -m benchmarks.docspeed`` starts Palpate (``palpate serve``) on a free local port
with a throw-away SQLite data directory holding the demo data, opens Chromium through Playwright
and documents a routine follow-up for a demo patient whose last visit is signed: find the
patient, start the visit (the note is carried forward from the last one), fill what changes at a
routine visit, save and sign. Every click and every filled field goes through ``Actions``, which
counts it, so the figure printed is measured. The target (issue: the clinical workflow in the
browser) is 15 actions or fewer. Signing in is not counted: it happens once a day, not per visit.

The server and the data directory are removed afterwards, whatever happens.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BUDGET = 15
PASSWORD = "palpate-demo"
THERAPIST = "harbor-pt"
CHROMIUM = os.environ.get("PALPATE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


@dataclass
class Actions:
    """Clicks and filled fields, counted as a person makes them."""

    log: list[str] = field(default_factory=list)

    def click(self, locator: Any, what: str) -> None:
        locator.click()
        self.log.append(f"click  {what}")

    def check(self, locator: Any, what: str) -> None:
        locator.check()
        self.log.append(f"click  {what}")

    def fill(self, locator: Any, value: str, what: str) -> None:
        locator.fill(value)
        self.log.append(f"fill   {what} = {value!r}")

    @property
    def count(self) -> int:
        return len(self.log)


@dataclass(frozen=True)
class FollowUp:
    patient_pk: int
    episode_pk: int
    given: str
    family: str
    record_number: str
    diagnosis: str
    last_visit: dt.date
    rows: list[tuple[str, str, str, str, int]]
    therapies: list[tuple[str, int]]


# -- the server -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    server = subprocess.Popen([sys.executable, "-m", "palpate.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
                               "--workers", "1"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("palpate serve stopped: " + (server.stderr.read() if server.stderr else b"").decode())
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
                if answer.status == 200:
                    return server
        except OSError:
            time.sleep(0.3)
    stop_server(server)
    raise RuntimeError("palpate serve did not answer within 60 s")


def stop_server(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)  # gunicorn and its worker: the group this script started
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
    if server.stderr:
        server.stderr.close()


# -- the data -------------------------------------------------------------------------------------


def prepare_data() -> FollowUp:
    """Migrate, load the demo, and pick a patient whose last visit is signed (or give one a history)."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from palpate.clinics.actor import Actor
    from palpate.clinics.models import Membership
    from palpate.demo.seed import seed_demo
    from palpate.lib.models_common import RecordStatus
    from palpate.patients.models import Episode, EpisodeStatus

    call_command("migrate", interactive=False, verbosity=0)
    seed_demo()
    today = timezone.localdate()
    chosen = None
    for episode in (Episode.objects.filter(clinic__slug="harbor", status=EpisodeStatus.ACTIVE)
                    .select_related("patient").order_by("id")):
        last = episode.visits.order_by("-visit_date", "-id").first()
        if (last is not None and last.status == RecordStatus.SIGNED and last.visit_date < today
                and last.treatments.exists() and episode.patient.episodes.count() == 1):
            chosen = (episode, last)
            break
    if chosen is None:  # the demo has no history: write one through the services
        from benchmarks.history import build_history, first_day_for

        membership = Membership.objects.get(user__username=THERAPIST, clinic__slug="harbor")
        history = build_history(Actor.of(membership), 3, first=first_day_for(3, today))
        chosen = (history.episode, history.last_visit)
    episode, last = chosen
    patient = episode.patient
    return FollowUp(
        patient.pk, episode.pk, patient.given_name, patient.family_name, patient.record_number, episode.diagnosis,
        last.visit_date,
        [(r.technique, r.region, r.side, r.pressure, r.minutes) for r in last.treatments.all()],
        [(c.therapy, c.minutes) for c in last.complementary.all()],
    )


def saved_visit(follow_up: FollowUp) -> Any:
    from palpate.visits.models import Visit

    return Visit.objects.filter(episode_id=follow_up.episode_pk).order_by("-id").first()


# -- the follow-up in the browser -----------------------------------------------------------------


def document_follow_up(base: str, follow_up: FollowUp, artefact: Path | None) -> tuple[Actions, float]:
    import re

    from playwright.sync_api import expect, sync_playwright

    actions = Actions()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_context(viewport={"width": 1024, "height": 768}).new_page()
        page.set_default_timeout(15_000)
        # Signing in happens once a day, not per visit: not counted.
        page.goto(f"{base}/accounts/login/")
        page.get_by_label("Username").fill(THERAPIST)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{base}/")
        started = time.perf_counter()

        # Find the patient.
        actions.click(page.get_by_role("link", name="Patients", exact=True), "Patients (main navigation)")
        actions.fill(page.get_by_role("searchbox", name="Search patients"), f"{follow_up.given} {follow_up.family}",
                     "Search patients")
        link = page.get_by_role("row").filter(has_text=follow_up.record_number).get_by_role(
            "link", name=f"{follow_up.family}, {follow_up.given}")
        actions.click(link, f"{follow_up.family}, {follow_up.given} in the results")
        page.wait_for_url(f"{base}/patients/{follow_up.patient_pk}/")

        # Start the visit: the note opens carried forward from the last signed visit.
        card = page.get_by_role("article", name=re.compile(re.escape(follow_up.diagnosis)))
        actions.click(card.get_by_role("button", name="Start visit"), "Start visit (patient chart)")
        page.wait_for_url(re.compile(r"/visits/\d+/$"))
        treatment = page.get_by_role("table", name=re.compile(r"^Technique, region, side, pressure, minutes"))
        carried = [tuple(treatment.get_by_label(f"{name}, treatment row {n}", exact=True).input_value()
                         for name in ("Technique", "Region", "Side", "Pressure", "Minutes"))
                   for n in range(1, len(follow_up.rows) + 1)]
        expected = [(t, r, s, p, str(m)) for t, r, s, p, m in follow_up.rows]
        if carried != expected:
            raise AssertionError(f"treatment rows not carried forward: {carried} != {expected}")

        # What changes at a routine follow-up.
        actions.fill(page.get_by_label("Soreness after the last visit (0-10)"), "2", "Soreness after the last visit")
        actions.fill(page.get_by_label("How long the soreness lasted (hours)"), "24", "How long the soreness lasted")
        actions.check(page.get_by_role("radio", name="Good relief"), "Relief since the last visit: Good relief")
        actions.fill(page.get_by_label("Subjective: what the patient reports"), "Less stiff in the mornings.",
                     "Subjective")
        actions.fill(page.get_by_label("Pain before treatment, NPRS (0-10)"), "4", "Pain before treatment")
        actions.fill(page.get_by_label("Pain after treatment, NPRS (0-10)"), "2", "Pain after treatment")
        therapies = page.get_by_role("table", name="Complementary therapies delivered")
        for n, (therapy, minutes) in enumerate(follow_up.therapies, start=1):
            actions.fill(therapies.get_by_label(f"Minutes, complementary therapy row {n}", exact=True), str(minutes or 10),
                         f"Minutes of {therapy.replace('_', ' ')} (carried forward at 0: today's to fill)")
        actions.click(page.get_by_role("button", name="Save and sign"), "Save and sign")
        expect(page.get_by_text("Saved and signed.")).to_be_visible()
        elapsed = time.perf_counter() - started
        if artefact is not None:
            artefact.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(artefact), full_page=True)
        browser.close()
    return actions, elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--screenshot", type=Path, default=None,
                        help="save the signed note as a PNG here (e.g. test-artifacts/docspeed-signed-note.png)")
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"Chromium is missing at {CHROMIUM} (set PALPATE_CHROMIUM)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="palpate-docspeed-") as data_dir:
        os.environ.update({"PALPATE_DATA_DIR": data_dir, "DJANGO_SETTINGS_MODULE": "palpate.web.settings",
                           "PALPATE_DEMO_PASSWORD": PASSWORD, "DJANGO_ALLOW_ASYNC_UNSAFE": "true"})
        os.environ.pop("DATABASE_URL", None)
        follow_up = prepare_data()
        port = free_port()
        env = {**os.environ, "PALPATE_DEMO": "0", "ALLOWED_HOSTS": "127.0.0.1,localhost"}
        server = start_server(env, port)
        try:
            actions, elapsed = document_follow_up(f"http://127.0.0.1:{port}", follow_up, args.screenshot)
        finally:
            stop_server(server)
        visit = saved_visit(follow_up)
        rows = [(r.technique, r.region, r.side, r.pressure, r.minutes) for r in visit.treatments.all()]
        if not (visit.is_signed and rows == follow_up.rows and visit.relief == "good" and visit.nprs_after == 2):
            print(f"the follow-up was not saved as documented: {visit} {rows}", file=sys.stderr)
            return 1

    print(f"Routine follow-up for {follow_up.given} {follow_up.family} ({follow_up.diagnosis}); last visit "
          f"{follow_up.last_visit:%Y-%m-%d}, carried forward: {len(follow_up.rows)} treatment rows, "
          f"{len(follow_up.therapies)} complementary therapies.")
    for number, action in enumerate(actions.log, start=1):
        print(f"  {number:>2}. {action}")
    from_chart = actions.count - next(i for i, a in enumerate(actions.log) if "Start visit" in a)
    print(f"Actions (clicks + filled fields): {actions.count} from the Patients page link, {from_chart} from the "
          f"patient's chart; budget {BUDGET}: {'met' if actions.count <= BUDGET else 'NOT met'}.")
    print(f"Wall time in the browser, from the first click to the signed note: {elapsed:.1f} s.")
    return 0 if actions.count <= BUDGET else 1


if __name__ == "__main__":
    sys.exit(main())
