"""The task API later features use: queued on commit, outcomes recorded, retries with backoff, summaries without names."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from django.db import transaction
from django.utils import timezone

from palpate.ops.models import TaskRun, TaskStatus
from palpate.ops.queue import HUEY, REGISTRY, cron, summarize, task
from palpate.ops.worker import recover_interrupted

CALLS: list[int] = []


@task(retries=0)
def remember(visit_id: int) -> None:
    CALLS.append(visit_id)


@task(retries=2, retry_delay=5, backoff=3.0)
def always_fails(visit_id: int) -> None:
    raise ValueError(f"could not reach the mail server for visit {visit_id}")


@pytest.fixture
def immediate():  # noqa: ANN201
    """Run tasks in this process as they are queued (huey's immediate mode, in-memory queue)."""
    HUEY.immediate = True
    CALLS.clear()
    yield
    HUEY.immediate = False


@pytest.mark.django_db(transaction=True)
def test_it_queues_on_commit_only_and_records_the_outcome(immediate):
    with transaction.atomic():
        remember.on_commit(7)
        assert CALLS == []  # not before the change it belongs to has committed
    assert CALLS == [7]
    run = TaskRun.objects.get(name=remember.task_name)
    assert run.status == TaskStatus.SUCCEEDED and run.attempts == 1 and run.finished_at >= run.started_at
    assert run.args_summary == "visit_id=7" and run.payload == {"args": [7], "kwargs": {}}


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_change_queues_nothing(immediate):
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        remember.on_commit(8)
        1 / 0  # noqa: B018
    assert CALLS == [] and not TaskRun.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_failing_task_is_recorded_as_retrying_then_failed_with_a_growing_delay(immediate):
    always_fails(3)
    run = TaskRun.objects.get(name=always_fails.task_name)
    assert run.status == TaskStatus.RETRYING and "ValueError" in run.error and run.attempts == 1
    waits = []
    for _ in range(2):
        started = HUEY._get_timestamp()
        (retry,) = HUEY.read_schedule(started + dt.timedelta(days=1))  # takes it off the schedule
        waits.append(round((retry.eta - started).total_seconds()))
        HUEY.execute(retry, timestamp=retry.eta)
    run.refresh_from_db()
    assert run.status == TaskStatus.FAILED and run.attempts == 3
    assert waits == [5, 15]  # retry_delay, then retry_delay x backoff
    assert HUEY.scheduled() == []


def test_the_summary_shows_numbers_and_named_identifiers_but_hides_other_text():
    assert summarize((12, "Maria Garcia"), {"day": dt.date(2026, 1, 2)}, names=("visit_id", "name")) == \
        "visit_id=12, name=<str>, day=2026-01-02"
    assert summarize(("2026-01-01T02:30",), {}, show=("slot",), names=("slot",)) == "slot=2026-01-01T02:30"
    assert summarize(("Maria Garcia",), {}, show=("slot",), names=("slot",)) == "slot=<str>"  # not identifier-like


def test_every_built_in_job_is_registered_and_a_bad_schedule_is_refused():
    from palpate.ops.worker import import_task_modules

    assert "palpate.ops.tasks" in import_task_modules()  # what the worker does when it starts
    names = set(REGISTRY)
    for job in ("audit_fold_and_anchor", "audit_verify_full", "scheduled_backup", "backup", "housekeeping"):
        assert f"palpate.ops.tasks.{job}" in names
    with pytest.raises(ValueError):
        cron("every night")


@pytest.mark.django_db
def test_recovery_queues_again_a_run_whose_worker_died_but_not_one_still_running():
    import socket

    dead = TaskRun.objects.create(task_id="dead", name=remember.task_name, payload={"args": [5], "kwargs": {}},
                                  status=TaskStatus.RUNNING, started_at=timezone.now(), worker=f"{socket.gethostname()}:999999")
    alive = TaskRun.objects.create(task_id="alive", name=remember.task_name, payload={"args": [6], "kwargs": {}},
                                   status=TaskStatus.RUNNING, started_at=timezone.now(),
                                   worker=f"{socket.gethostname()}:{os.getppid()}")
    before = HUEY.pending_count()
    try:
        assert recover_interrupted() == ["dead"]
        dead.refresh_from_db()
        alive.refresh_from_db()
        assert dead.status == TaskStatus.INTERRUPTED and alive.status == TaskStatus.RUNNING
        assert HUEY.pending_count() == before + 1
    finally:
        HUEY.flush()


def test_the_queue_is_redis_when_a_redis_url_is_set(settings):
    from huey import RedisHuey, SqliteHuey

    from palpate.ops import queue

    assert isinstance(queue.HUEY, SqliteHuey)
    settings.PALPATE_REDIS_URL = "redis://127.0.0.1:6390/3"
    built = queue._build()  # connects lazily: no Redis server needed to configure it
    assert isinstance(built, RedisHuey)
    assert built.storage.pool.connection_kwargs["db"] == 3 and built.storage.pool.connection_kwargs["port"] == 6390
