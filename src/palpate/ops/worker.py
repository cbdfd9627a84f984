"""``palpate worker``: the huey consumer, with a heartbeat and the recovery of interrupted tasks.

Huey takes a task off the queue before running it, so a worker killed mid-task (kill -9, power
cut) would lose it. Every run is recorded first (``TaskRun``, status running, with its arguments);
when a worker starts it queues again every run left "running" by a worker that is gone (same
machine, process not alive) or that is older than ``PALPATE_TASK_STALE_MINUTES`` (any machine).
Tasks are idempotent, so running one again reaches the same end state.

No database connection crosses a fork: connections are closed before the consumer starts (it may
fork process workers) and a process worker forgets anything it inherited
(``palpate.lib.forking``).
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
import os
import socket
import threading
from typing import Any

log = logging.getLogger("palpate.worker")

HEARTBEAT_SECONDS = 20


def import_task_modules() -> list[str]:
    """Import ``<app>.tasks`` of every installed app (and ``PALPATE_EXTRA_TASK_MODULES``) so their tasks register."""
    from django.apps import apps
    from django.conf import settings

    loaded = []
    names = [f"{config.name}.tasks" for config in apps.get_app_configs()] + list(settings.PALPATE_EXTRA_TASK_MODULES)
    for name in names:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        loaded.append(name)
    return loaded


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recover_interrupted() -> list[str]:
    """Queue again every task run whose worker died mid-task; returns their task ids."""
    from django.conf import settings
    from django.utils import timezone

    from palpate.ops.models import TaskRun, TaskStatus
    from palpate.ops.queue import HUEY, REGISTRY

    host = socket.gethostname()
    stale = timezone.now() - dt.timedelta(minutes=settings.PALPATE_TASK_STALE_MINUTES)
    requeued = []
    for run in TaskRun.objects.filter(status=TaskStatus.RUNNING).order_by("started_at"):
        worker_host, _, pid = run.worker.rpartition(":")
        gone = worker_host == host and pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid))
        if not (gone or run.started_at < stale):
            continue
        wrapper = REGISTRY.get(run.name)
        TaskRun.objects.filter(pk=run.pk).update(status=TaskStatus.INTERRUPTED, finished_at=timezone.now(),
                                                 error=f"worker {run.worker} stopped during the task")
        if wrapper is None or run.periodic:
            continue  # a periodic task runs again on its schedule; an unknown one cannot be run
        args = tuple(run.payload.get("args", []))
        kwargs = dict(run.payload.get("kwargs", {}))
        # The same task id, so the outcome row continues (attempts counts on).
        HUEY.enqueue(wrapper.task_class(args=args, kwargs=kwargs, id=run.task_id))
        requeued.append(run.task_id)
        log.warning("task %s (%s) was interrupted by a dead worker; queued again", run.task_id, run.name)
    return requeued


class Heartbeat(threading.Thread):
    """Writes this worker's heartbeat row every few seconds until stopped."""

    def __init__(self, name: str) -> None:
        super().__init__(name="palpate-heartbeat", daemon=True)
        self.worker = name
        self.stopping = threading.Event()

    def beat(self, stopped: bool = False) -> None:
        from django.db import connection
        from django.utils import timezone

        from palpate.ops.models import WorkerHeartbeat

        now = timezone.now()
        try:
            WorkerHeartbeat.objects.update_or_create(
                worker=self.worker, defaults={"beat_at": now, "stopped_at": now if stopped else None},
                create_defaults={"started_at": now, "beat_at": now})
        except Exception:  # a database hiccup must not end the worker; the next beat tries again
            log.exception("heartbeat failed")
        finally:
            connection.close()

    def run(self) -> None:
        while not self.stopping.wait(HEARTBEAT_SECONDS):
            self.beat()


def forget_connections_if_forked(consumer_pid: int) -> int:
    """A worker's start: in a forked child (process workers), drop what the fork copied.

    Thread workers were not forked: they share the consumer's pool, and one thread "forgetting" it
    while another has just opened it for a task leaves that task a pool that is not open (a task
    failed so on PostgreSQL). So nothing happens in the consumer's own process.
    """
    if os.getpid() == consumer_pid:
        return 0
    from palpate.lib.forking import forget_inherited_connections

    return forget_inherited_connections()


def run_worker(workers: int | None = None) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "palpate.web.settings")
    import django

    django.setup()
    from django.conf import settings
    from huey.api import PeriodicTask
    from huey.signals import SIGNAL_INTERRUPTED

    from palpate.lib.forking import close_connections
    from palpate.ops.queue import HUEY, worker_name

    loaded = import_task_modules()
    name = worker_name()
    heartbeat = Heartbeat(name)
    heartbeat.beat()
    requeued = recover_interrupted()

    consumer_pid = os.getpid()

    @HUEY.on_startup("palpate-forget-inherited-connections")
    def _after_fork() -> None:
        # Runs in every worker as it starts; with process workers that is in the forked child.
        found = forget_connections_if_forked(consumer_pid)
        if found:
            log.warning("worker process %s inherited %d database connection(s); dropped them", os.getpid(), found)

    @HUEY.signal(SIGNAL_INTERRUPTED)
    def _interrupted(signal: str, huey_task: Any, *args: Any) -> None:
        # Stopped without waiting (SIGINT, or the shutdown timeout passed): queue it again now.
        from django.utils import timezone

        from palpate.ops.models import TaskRun, TaskStatus

        TaskRun.objects.filter(task_id=huey_task.id, status=TaskStatus.RUNNING).update(
            status=TaskStatus.INTERRUPTED, finished_at=timezone.now(), error="the worker stopped during the task")
        if not isinstance(huey_task, PeriodicTask):
            HUEY.enqueue(huey_task)

    close_connections()  # before the consumer starts (process workers are forked from here)
    # SIGTERM (systemd, palpate serve) lets running tasks finish for a while; SIGINT stops at once.
    consumer = HUEY.create_consumer(workers=workers or settings.PALPATE_WORKER_THREADS,
                                    worker_type=settings.PALPATE_WORKER_TYPE,
                                    periodic=True, scheduler_interval=1, check_worker_health=True,
                                    graceful_signal="TERM", shutdown_timeout=settings.PALPATE_WORKER_SHUTDOWN_SECONDS)
    storage = "Redis" if settings.PALPATE_REDIS_URL else f"SQLite ({settings.HUEY_SQLITE_FILE})"
    log.warning("worker %s started: queue in %s; tasks from %s; %d interrupted task(s) queued again",
                name, storage, ", ".join(loaded), len(requeued))
    heartbeat.start()
    try:
        consumer.run()  # returns after SIGTERM / SIGINT, once running tasks have finished
    finally:
        heartbeat.stopping.set()
        heartbeat.beat(stopped=True)
        log.warning("worker %s stopped", name)
    return 0


def queue_stats() -> dict[str, Any]:
    from palpate.ops.queue import HUEY

    try:
        return {"pending": HUEY.pending_count(), "scheduled": HUEY.scheduled_count(), "error": ""}
    except Exception as exc:  # Redis down, queue file unreadable: the health page says so instead of failing
        return {"pending": None, "scheduled": None, "error": f"{type(exc).__name__}: {exc}"[:200]}
