"""Growth: the patient search, Today and a chart with 1,000, 10,000 and 100,000 patients in a clinic.

A clinic that has used Palpate for years holds tens of thousands of patients, most of them long
discharged. What a therapist opens every few minutes must not slow down with them: the search must
use a text index rather than read every patient, and Today must not depend on the number of
patients at all (it lists what is due, a bounded set).

In a child process on a throw-away SQLite data directory (or, with ``PALPATE_BENCH_DATABASE_URL``
pointing at a PostgreSQL server, a throw-away PostgreSQL database): migrate, load the demo, then
grow Harbor Physical Therapy to each size with generated patients written in bulk (each with an
episode; every second one two signed visits in the past year; every fifth a signed plan of care;
every twentieth a referral, one in ten of them still open). Bulk writes skip the audit trail: only
reads are measured here. Each page is requested with Django's test client as ``harbor-pt``: 2
warm-up requests, then 11 timed ones; the median is reported with the query count.

``python -m benchmarks.bench_growth`` prints a table; ``make bench`` runs it
(``PALPATE_BENCH_GROWTH_SIZES=1000,10000`` for a quicker run).
"""

from __future__ import annotations

import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

SIZES = (1_000, 10_000, 100_000)
WARMUP = 2
REPEAT = 11
BATCH = 2_000
ROOT = Path(__file__).resolve().parents[1]

GIVEN = ["Maria", "James", "Amara", "Lucas", "Sofia", "Noah", "Ines", "Omar", "Hana", "Pavel", "Leila", "Tomas",
         "Yuki", "Grace", "Mateo", "Nadia", "Elias", "Zara", "Ivan", "Chloe", "Kofi", "Ava", "Rafael", "Mina"]
SYLLABLES = ["ba", "ker", "lin", "dor", "mo", "ra", "vet", "sa", "quin", "tal", "ne", "fur", "ho", "zel", "pri",
             "wat", "gu", "ste", "ron", "el", "cas", "ti", "bel", "or"]


def sizes() -> tuple[int, ...]:
    raw = os.environ.get("PALPATE_BENCH_GROWTH_SIZES", "")
    return tuple(int(s) for s in raw.split(",") if s.strip()) or SIZES


def run() -> list[tuple[str, float, str]]:
    rows: list[tuple[str, float, str]] = []
    for r in measure():
        rows.append((f"{r['label']} with {r['patients']:,} patients: median server time", r["median_ms"], "ms"))
        rows.append((f"{r['label']} with {r['patients']:,} patients: queries", float(r["queries"]), "queries"))
    return rows


def _postgres(base_url: str) -> tuple[str, str]:
    import psycopg

    name = f"palpate_growth_{secrets.token_hex(4)}"
    with psycopg.connect(base_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return urlsplit(base_url)._replace(path=f"/{name}").geturl(), name


def _drop(base_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(base_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def measure() -> list[dict[str, Any]]:
    base_url = os.environ.get("PALPATE_BENCH_DATABASE_URL") or ""
    with tempfile.TemporaryDirectory(prefix="palpate-growth-") as data_dir:
        env = {**os.environ, "PALPATE_DATA_DIR": data_dir, "DJANGO_SETTINGS_MODULE": "palpate.web.settings",
               "ALLOWED_HOSTS": "testserver,localhost", "DEBUG": "0",
               "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH", "")]))}
        env.pop("DATABASE_URL", None)
        db_name = None
        if base_url:
            env["DATABASE_URL"], db_name = _postgres(base_url)
        try:
            done = subprocess.run([sys.executable, "-m", "benchmarks.bench_growth", "--child",
                                   ",".join(str(s) for s in sizes())], cwd=ROOT, env=env, capture_output=True,
                                  text=True, timeout=3600, check=False)
        finally:
            if db_name:
                _drop(base_url, db_name)
        if done.returncode != 0:
            raise RuntimeError(f"growth benchmark failed:\n{done.stderr[-4000:]}")
        return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


# -- in the child -----------------------------------------------------------------------------------


def _grow(clinic: Any, therapists: list[Any], start: int, stop: int) -> None:
    """Patients number ``start`` to ``stop - 1`` of the clinic, with their records, in bulk."""
    import datetime as dt
    import random

    from django.db import transaction
    from django.utils import timezone

    from palpate.evaluations.models import Referral
    from palpate.patients.models import Episode, Patient
    from palpate.plans.models import PlanOfCare
    from palpate.visits.models import Visit

    rng = random.Random(start)
    today = timezone.localdate()
    now = timezone.now()
    index_text = getattr(Patient, "search_text_for", None)
    for first in range(start, stop, BATCH):
        numbers = range(first, min(stop, first + BATCH))
        with transaction.atomic():
            patients = []
            for n in numbers:
                family = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()
                patient = Patient(clinic=clinic, record_number=f"G{n:07d}", given_name=rng.choice(GIVEN),
                                  family_name=family, date_of_birth=dt.date(1940 + n % 60, 1 + n % 12, 1 + n % 28),
                                  sex=rng.choice(["female", "male"]), phone=f"555-{n % 10000:04d}",
                                  email=f"p{n}@example.org")
                if index_text is not None:
                    patient.search_text = index_text(patient)
                patients.append(patient)
            Patient.objects.bulk_create(patients)
            patients = list(Patient.objects.filter(clinic=clinic, record_number__in=[p.record_number for p in patients]))
            episodes = Episode.objects.bulk_create([
                Episode(clinic=clinic, patient=p, condition="low_back_pain", body_region="lower_back", side="",
                        diagnosis="Low back pain, unspecified", icd10_code="M54.50",
                        onset_date=today - dt.timedelta(days=30 + rng.randint(0, 700)),
                        opened_on=today - dt.timedelta(days=20 + rng.randint(0, 600)), payer="commercial",
                        status="discharged" if rng.random() < 0.8 else "active")
                for p in patients])
            visits, plans, referrals = [], [], []
            for i, episode in enumerate(episodes):
                n = first + i
                if n % 2 == 0:
                    for _ in range(2):
                        who = rng.choice(therapists)
                        visits.append(Visit(
                            clinic=clinic, patient=episode.patient, episode=episode, therapist=who,
                            visit_date=today - dt.timedelta(days=rng.randint(1, 365)), status="signed",
                            signed_at=now, signed_by=who, nprs_before=5, nprs_after=3,
                            screen_result={"session": "hold" if rng.random() < 0.01 else "proceed"}))
                if n % 5 == 0:
                    begun = today - dt.timedelta(days=rng.randint(0, 365))
                    plans.append(PlanOfCare(
                        clinic=clinic, patient=episode.patient, episode=episode, created_by=therapists[0],
                        start_date=begun, status="signed", signed_at=now, signed_by=therapists[0],
                        recertify_by=begun + dt.timedelta(days=42), reevaluate_by=begun + dt.timedelta(days=30)))
                if n % 20 == 0:
                    referrals.append(Referral(
                        clinic=clinic, patient=episode.patient, episode=episode, reason="red_flag_spine",
                        urgency="routine", raised_by=therapists[0],
                        raised_on=today - dt.timedelta(days=rng.randint(0, 365)),
                        status="open" if n % 200 == 0 else "closed"))
            Visit.objects.bulk_create(visits)
            PlanOfCare.objects.bulk_create(plans)
            Referral.objects.bulk_create(referrals)


def _child(targets: list[int]) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from palpate.clinics.models import Clinic, Membership
    from palpate.demo.seed import seed_demo
    from palpate.patients.models import Patient

    call_command("migrate", interactive=False, verbosity=0)
    seed_demo()
    harbor = Clinic.objects.get(slug="harbor")
    member = Membership.objects.select_related("user").get(user__username="harbor-pt", clinic=harbor)
    therapists = [m.user for m in Membership.objects.filter(clinic=harbor, role__in=["therapist", "owner"])
                  .select_related("user")]
    demo = Patient.objects.filter(clinic=harbor).order_by("id").first()
    assert demo is not None
    client = Client()
    client.force_login(member.user)
    pages = [
        ("Today page", "/"),
        ("patient search, a family name", f"/patients/?q={demo.family_name.lower()}"),
        ("patient search, a common fragment", "/patients/?q=ker"),
        ("patient search, two words", f"/patients/?q={demo.given_name[:3]}+{demo.family_name[:3]}"),
        ("patient chart", f"/patients/{demo.pk}/"),
    ]
    have = Patient.objects.filter(clinic=harbor).count()
    from palpate.clinics.actor import Actor
    from palpate.patients.access import patients_for
    from palpate.today.board import build_today

    actor = Actor.of(member)

    def today_lists() -> int:
        """Today's queries without the page, and how many rows they found: the lists fill up to their
        caps (25 each) as a clinic grows, so the page grows until then; reading them must not."""
        board = build_today(actor)
        recent = list(patients_for(actor).only("id", "family_name", "given_name", "record_number")
                      .order_by("-updated_at")[:10])
        return sum(len(getattr(board, name)) for name in board.__dataclass_fields__) + len(recent)

    for target in targets:
        if target > have:
            started = time.perf_counter()
            _grow(harbor, therapists, have, target)
            print(f"grew to {target} patients in {time.perf_counter() - started:.1f} s", file=sys.stderr)
            have = target
            with connection.cursor() as cursor:  # fresh statistics for the planner, as autovacuum would
                cursor.execute("ANALYZE")
        for label, url in pages:
            for _ in range(WARMUP):
                assert client.get(url).status_code == 200, url
            with CaptureQueriesContext(connection) as captured:
                response = client.get(url)
            queries = len(captured)  # now: the next request empties the connection's query log
            samples = []
            for _ in range(REPEAT):
                started = time.perf_counter()
                client.get(url)
                samples.append((time.perf_counter() - started) * 1000)
            print(json.dumps({"label": label, "patients": have, "median_ms": round(statistics.median(samples), 1),
                              "min_ms": round(min(samples), 1), "max_ms": round(max(samples), 1),
                              "queries": queries, "bytes": len(response.content)}), flush=True)
        samples = []
        for _ in range(WARMUP + REPEAT):
            started = time.perf_counter()
            today_lists()
            samples.append((time.perf_counter() - started) * 1000)
        samples = samples[WARMUP:]
        with CaptureQueriesContext(connection) as captured:
            rows = today_lists()
        print(json.dumps({"label": "Today's lists (queries only)", "patients": have,
                          "median_ms": round(statistics.median(samples), 1), "min_ms": round(min(samples), 1),
                          "max_ms": round(max(samples), 1), "queries": len(captured), "bytes": 0, "rows": rows}),
              flush=True)


def main() -> int:
    if len(sys.argv) >= 2 and sys.argv[1] == "--child":
        _child([int(s) for s in sys.argv[2].split(",")])
        return 0
    rows = measure()
    database = "PostgreSQL" if os.environ.get("PALPATE_BENCH_DATABASE_URL") else "SQLite"
    print(f"Growth ({database}; median of {REPEAT} requests, server time in the test client):")
    print(f"  {'page':<36} {'patients':>9} {'median':>8} {'min':>8} {'max':>8} {'queries':>8} {'shown':>9}")
    for r in rows:
        shown = f"{r['rows']} rows" if "rows" in r else f"{r['bytes'] / 1000:.0f} kB"
        print(f"  {r['label']:<36} {r['patients']:>9,} {r['median_ms']:>6.1f}ms {r['min_ms']:>6.1f}ms "
              f"{r['max_ms']:>6.1f}ms {r['queries']:>8} {shown:>9}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
