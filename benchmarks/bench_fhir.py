"""The FHIR API's speed: Patient/$everything for a patient with 100 visits, a search page of 50
Observations, and a bulk export of 100,000 resources (throughput and peak memory).

Targets (issue 16): $everything under 300 ms of server time, a page of 50 Observations under 100 ms;
export throughput and memory are reported. Server time is Django's test client in process (no
network), the median of ``REPEAT`` requests after a warm-up. The export is written by the same code
the worker runs (``palpate.interop.fhir.bulk.write_export``); its peak memory is measured with
tracemalloc at a tenth of the size and at full size, to show it stays flat as resources grow.

Runs in a child process on a throw-away SQLite data directory (migrated, demo seeded, history written
through the services; the export's extra patients are copies of that history made with bulk inserts).
``python -m benchmarks.bench_fhir`` prints the rows; ``make bench`` picks up ``run()``.
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
EXPORT_RESOURCES = 100_000
WARMUP = 2
REPEAT = 11
ROOT = Path(__file__).resolve().parents[1]


def run() -> list[tuple[str, float, str]]:
    with tempfile.TemporaryDirectory(prefix="palpate-bench-fhir-") as data_dir:
        env = {**os.environ, "PALPATE_DATA_DIR": data_dir, "DJANGO_SETTINGS_MODULE": "palpate.web.settings",
               "ALLOWED_HOSTS": "testserver,localhost", "DEBUG": "0",
               "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH", "")]))}
        env.pop("DATABASE_URL", None)
        done = subprocess.run([sys.executable, "-m", "benchmarks.bench_fhir", "--child"], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=3600, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"FHIR benchmark failed:\n{done.stderr[-4000:]}")
        rows = json.loads(done.stdout.strip().splitlines()[-1])
        return [tuple(row) for row in rows]  # type: ignore[misc]


def _timed(client: Any, path: str, headers: dict[str, str]) -> tuple[float, Any]:
    for _ in range(WARMUP):
        client.get(path, **headers)
    times = []
    response = None
    for _ in range(REPEAT):
        started = time.perf_counter()
        response = client.get(path, **headers)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.content[:300]
    return statistics.median(times), response


def _copy_history(history: Any, copies: int) -> None:
    """``copies`` more patients with the same records as ``history``'s patient, by bulk inserts."""
    from palpate.evaluations.models import Evaluation
    from palpate.outcomes.models import OutcomeMeasurement
    from palpate.patients.models import Episode, Patient
    from palpate.plans.models import PlanOfCare
    from palpate.visits.models import ComplementaryRow, TreatmentRow, Visit

    source = history.patient
    visits = list(Visit.objects.filter(patient=source).order_by("pk"))
    rows = {v.pk: list(TreatmentRow.objects.filter(visit=v)) for v in visits}
    extra = {v.pk: list(ComplementaryRow.objects.filter(visit=v)) for v in visits}
    outcomes = list(OutcomeMeasurement.objects.filter(patient=source))
    first = Patient.objects.count()
    for number in range(first, first + copies):
        patient = Patient.objects.create(clinic=source.clinic, record_number=f"B{number:06d}", given_name="Bulk",
                                         family_name=f"Copy {number}", date_of_birth=source.date_of_birth, sex="female")
        episode = Episode.objects.get(pk=history.episode.pk)
        episode.pk = None
        episode.patient = patient
        episode.save()
        evaluation = Evaluation.objects.get(pk=history.evaluation.pk)
        evaluation.pk, evaluation.patient, evaluation.episode = None, patient, episode
        evaluation.save()
        plan = PlanOfCare.objects.get(pk=history.plan.pk)
        plan.pk, plan.patient, plan.episode, plan.evaluation = None, patient, episode, evaluation
        plan.save()
        new_visits = []
        for visit in visits:
            copy = Visit(**{f.attname: getattr(visit, f.attname) for f in Visit._meta.concrete_fields
                            if not f.generated and f.attname != "id"})
            copy.patient, copy.episode, copy.plan = patient, episode, plan
            new_visits.append(copy)
        Visit.objects.bulk_create(new_visits)
        by_old = dict(zip([v.pk for v in visits], new_visits, strict=True))
        TreatmentRow.objects.bulk_create([TreatmentRow(clinic_id=r.clinic_id, visit=by_old[old], position=r.position,
                                                       technique=r.technique, region=r.region, side=r.side,
                                                       pressure=r.pressure, minutes=r.minutes, response=r.response)
                                          for old, found in rows.items() for r in found])
        ComplementaryRow.objects.bulk_create([ComplementaryRow(clinic_id=r.clinic_id, visit=by_old[old],
                                                               position=r.position, therapy=r.therapy,
                                                               minutes=r.minutes, notes=r.notes)
                                              for old, found in extra.items() for r in found])
        OutcomeMeasurement.objects.bulk_create([
            OutcomeMeasurement(clinic_id=o.clinic_id, patient=patient, episode=episode,
                               visit=by_old.get(o.visit_id), instrument=o.instrument, taken_on=o.taken_on,
                               answers=o.answers, valid=o.valid, score=o.score, scores=o.scores, reason=o.reason,
                               activities=o.activities, entered_by_id=o.entered_by_id) for o in outcomes])


def _export(ctx: Any, export: Any, folder: Path) -> tuple[int, float]:
    from palpate.interop.fhir.bulk import write_export

    started = time.perf_counter()
    written = write_export(ctx, export, folder, None)
    return sum(f["count"] for f in written), time.perf_counter() - started


def _child() -> None:
    import tracemalloc

    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client
    from django.utils import timezone

    from benchmarks.history import build_history, first_day_for
    from palpate.clinics.actor import Actor
    from palpate.clinics.models import Membership
    from palpate.demo.seed import seed_demo
    from palpate.interop import services
    from palpate.interop.access import authenticate_token
    from palpate.interop.fhir.bulk import exportable
    from palpate.interop.fhir.context import Context
    from palpate.interop.models import BulkExport

    call_command("migrate", interactive=False, verbosity=0)
    seed_demo()
    membership = Membership.objects.select_related("user", "clinic").get(user__username="harbor-pt",
                                                                          clinic__slug="harbor")
    history = build_history(Actor.of(membership), VISITS, first=first_day_for(VISITS, timezone.localdate()))
    owner = Membership.objects.select_related("user", "clinic").get(user__username="harbor-owner")
    new = services.check_create_token(Actor.of(owner), owner.clinic, owner, "read", 1, "bench")
    raw = services.do_create_token(Actor.of(owner), new)[1]
    headers = {"HTTP_AUTHORIZATION": f"Bearer {raw}", "HTTP_ACCEPT": "application/fhir+json"}
    client = Client()
    rows: list[tuple[str, float, str]] = []

    median, response = _timed(client, f"/fhir/R4/Patient/{history.patient.pk}/$everything", headers)
    bundle = json.loads(response.content)
    rows += [(f"Patient/$everything, {VISITS} visits ({len(bundle['entry'])} resources): median server time",
              median, "ms"), ("Patient/$everything: budget", 300.0, "ms")]
    median, response = _timed(client, f"/fhir/R4/Observation?patient={history.patient.pk}&_count=50", headers)
    assert len(json.loads(response.content)["entry"]) == 50
    rows += [("Observation search, a page of 50: median server time", median, "ms"),
             ("Observation search: budget", 100.0, "ms")]

    actor = authenticate_token(raw)
    ctx = Context(actor, "http://testserver/fhir/R4")
    export = BulkExport(clinic=owner.clinic, membership=owner, level="system", types=exportable("system"),
                        request_url="http://testserver/fhir/R4/$export")
    folder = Path(os.environ["PALPATE_DATA_DIR"]) / "bench-export"
    count, _ = _export(Context(actor, ctx.base), export, folder)  # the demo clinic plus the history, as is
    per_copy = max(1, len(list(_patient_resources(ctx, history.patient.pk))))
    tenth = max(1, (EXPORT_RESOURCES // 10 - count) // per_copy)
    _copy_history(history, tenth)
    tracemalloc.start()
    small, _ = _export(Context(actor, ctx.base), export, folder)
    small_peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    _copy_history(history, max(0, (EXPORT_RESOURCES - small) // per_copy))
    big, seconds = _export(Context(actor, ctx.base), export, folder)
    tracemalloc.start()
    _export(Context(actor, ctx.base), export, folder)
    big_peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    rows += [(f"bulk export of {big} resources: time", seconds, "s"),
             ("bulk export: throughput", big / seconds, "resources/s"),
             (f"bulk export peak memory (tracemalloc), {small} resources", small_peak, "MB"),
             (f"bulk export peak memory (tracemalloc), {big} resources", big_peak, "MB")]
    print(json.dumps(rows))


def _patient_resources(ctx: Any, patient_id: int) -> Any:
    from palpate.interop.fhir.registry import REGISTRY

    for resource_type in REGISTRY.values():
        if resource_type.patient_compartment:
            yield from resource_type.stream(ctx, [patient_id])


if __name__ == "__main__":
    if "--child" in sys.argv:
        _child()
    else:
        for label, value, unit in run():
            print(f"{label:<75} {value:>10.4g} {unit}")
