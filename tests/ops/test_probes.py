"""/healthz, /readyz and the owners' health page: nothing about patients, owners only."""

from __future__ import annotations

import datetime as dt
from collections import namedtuple

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from palpate.ops import views
from palpate.ops.models import Backup, TaskRun, TaskStatus, WorkerHeartbeat


@pytest.mark.django_db
def test_healthz_answers_without_touching_the_database(client):
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"} and len(queries) == 0


@pytest.mark.django_db
def test_readyz_needs_a_live_worker_and_says_why_not(client):
    response = client.get("/readyz")
    assert response.status_code == 503 and response.json()["checks"]["worker"]["detail"] == "no worker running"
    now = timezone.now()
    WorkerHeartbeat.objects.create(worker="host:1", started_at=now, beat_at=now)
    ready = client.get("/readyz").json()
    assert ready["status"] == "ready" and ready["checks"]["database"]["ok"] and ready["checks"]["disk"]["free_mb"] > 0
    WorkerHeartbeat.objects.update(beat_at=now - dt.timedelta(minutes=5))
    assert client.get("/readyz").status_code == 503


@pytest.mark.django_db
def test_readyz_reports_a_nearly_full_disk(client, monkeypatch):
    now = timezone.now()
    WorkerHeartbeat.objects.create(worker="host:1", started_at=now, beat_at=now)
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(views.shutil, "disk_usage", lambda path: usage(10 << 30, (10 << 30) - (100 << 20), 100 << 20))
    response = client.get("/readyz")
    assert response.status_code == 503 and not response.json()["checks"]["disk"]["ok"]


def test_the_health_page_is_for_owners_and_names_no_patient(world, as_user):
    now = timezone.now()
    WorkerHeartbeat.objects.create(worker="host:1", started_at=now, beat_at=now)
    TaskRun.objects.create(task_id="x", name="palpate.ops.tasks.backup", args_summary="slot=s1", status=TaskStatus.FAILED,
                           started_at=now, error="BackupError: no space left", attempts=4)
    Backup.objects.create(created_at=now, path="/backups/palpate-backup-1.tar.gz", size=2048, sha256="0" * 64,
                          database="sqlite")
    page = as_user(world.olivia).get("/ops/health/").content.decode()
    # Tasks by name in words (the worker's dotted name is for the logs).
    assert "BackupError: no space left" in page and "Audit fold and anchor" in page and "Backup" in page
    assert "palpate.ops.tasks" not in page
    assert "palpate-backup-1.tar.gz" in page and world.harbor_patient.family_name not in page
    for user in (world.alice, world.aubrey, world.fran, world.charlie):
        assert as_user(user).get("/ops/health/").status_code == 403


def test_back_up_now_queues_a_backup_after_the_request_commits(world, as_user, django_capture_on_commit_callbacks,
                                                               monkeypatch):
    from palpate.ops import tasks

    queued: list[str] = []
    monkeypatch.setattr(tasks.backup, "on_commit", lambda slot: queued.append(slot))
    response = as_user(world.olivia).post("/ops/health/backup/")
    assert response.status_code == 302 and len(queued) == 1 and queued[0].startswith("manual-")
    assert as_user(world.alice).post("/ops/health/backup/").status_code == 403
