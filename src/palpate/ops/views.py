"""Probes for machines (``/healthz``, ``/readyz``) and the health page for owners.

The probes say nothing about patients: only whether the process, the database, the worker and
the disk are in order.
"""

from __future__ import annotations

import datetime as dt
import shutil
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Max
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from palpate.audit.anchor import anchor_path, read_anchors
from palpate.audit.models import AuditRead
from palpate.clinics.roles import CLINIC_MANAGE
from palpate.lib.decorators import member_required
from palpate.ops.models import Backup, TaskRun, TaskStatus, WorkerHeartbeat, task_title
from palpate.ops.queue import REGISTRY
from palpate.ops.worker import import_task_modules, queue_stats


def healthz(request: HttpRequest) -> HttpResponse:
    """The process is up and answering. No database: a database outage must not get healthy web
    processes restarted."""
    return JsonResponse({"status": "ok"})


def _worker_check() -> dict[str, Any]:
    latest = WorkerHeartbeat.objects.filter(stopped_at__isnull=True).order_by("-beat_at").first()
    if latest is None:
        return {"ok": False, "detail": "no worker running"}
    age = (timezone.now() - latest.beat_at).total_seconds()
    ok = age <= settings.PALPATE_HEARTBEAT_MAX_AGE_SECONDS
    return {"ok": ok, "detail": f"last heartbeat {age:.0f} s ago", "age_seconds": round(age)}


def _disk_check() -> dict[str, Any]:
    usage = shutil.disk_usage(settings.DATA_DIR)
    free_mb = usage.free // (1024 * 1024)
    return {"ok": free_mb >= settings.PALPATE_READY_MIN_FREE_MB, "free_mb": free_mb,
            "detail": f"{free_mb} MiB free in the data directory (minimum {settings.PALPATE_READY_MIN_FREE_MB})"}


def readyz(request: HttpRequest) -> HttpResponse:
    """Ready to serve: the database answers, a worker is alive, the data directory has room."""
    checks: dict[str, Any] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = {"ok": True}
        checks["worker"] = _worker_check()
    except Exception as exc:  # any database failure is "not ready", never a 500
        checks["database"] = {"ok": False, "detail": type(exc).__name__}
        checks["worker"] = {"ok": False, "detail": "unknown: the database did not answer"}
    try:
        checks["disk"] = _disk_check()
    except OSError as exc:
        checks["disk"] = {"ok": False, "detail": exc.strerror}
    ready = all(c["ok"] for c in checks.values())
    return JsonResponse({"status": "ready" if ready else "not ready", "checks": checks}, status=200 if ready else 503)


def health_summary() -> dict[str, Any]:
    import_task_modules()  # the web process knows the tasks the worker runs
    periodic_names = sorted(name for name, wrapper in REGISTRY.items()
                            if getattr(wrapper.task_class, "validate_datetime", None) is not None)
    last_runs = {row["name"]: row["last"] for row in
                 TaskRun.objects.values("name").annotate(last=Max("started_at"))}
    periodic = []
    for name in periodic_names:
        run = TaskRun.objects.filter(name=name).order_by("-started_at").first() if name in last_runs else None
        periodic.append({"name": name, "title": task_title(name), "run": run})
    week = timezone.now() - dt.timedelta(days=7)
    anchors = read_anchors()
    return {
        "queue": queue_stats(),
        "worker": _worker_check(),
        "workers": list(WorkerHeartbeat.objects.order_by("-beat_at")[:5]),
        "disk": _disk_check(),
        "periodic": periodic,
        "failures": list(TaskRun.objects.filter(status=TaskStatus.FAILED, started_at__gte=week).order_by("-started_at")[:20]),
        "recent": list(TaskRun.objects.exclude(periodic=True).order_by("-started_at")[:10]),
        "last_backup": Backup.objects.filter(pruned=False).first(),
        "backup_dir": settings.PALPATE_BACKUP_DIR,
        "backup_cron": settings.PALPATE_BACKUP_CRON if settings.PALPATE_BACKUP_ENABLED else None,
        "staged_reads": AuditRead.objects.count(),
        "anchor_file": anchor_path(),
        "anchored_clinics": len(anchors.highest),
        "anchor_ok": anchors.exists and not anchors.bad_lines,
    }


@member_required(CLINIC_MANAGE)
def health(request: HttpRequest) -> HttpResponse:
    return render(request, "ops/health.html", {"h": health_summary()})


@require_POST
@member_required(CLINIC_MANAGE)
def backup_now(request: HttpRequest) -> HttpResponse:
    """Queue a backup now (the worker makes it; this page shows it when done)."""
    from palpate.ops.tasks import backup

    slot = "manual-" + timezone.now().strftime("%Y-%m-%dT%H:%M:%S")
    backup.on_commit(slot)
    return redirect("ops:health")
