"""The background queue (huey) and the one way Palpate code declares a task.

Storage: SQLite in the data directory (``huey.sqlite3``) unless ``PALPATE_REDIS_URL`` is set; then
Redis, and any number of workers on any number of machines share the queue.

Declaring a task (any app: put it in ``<app>/tasks.py``, which the worker imports)::

    from palpate.ops.queue import task, periodic_task, crontab

    @task(retries=5, retry_delay=30)           # retried with exponential backoff (30 s, 60 s, 120 s ...)
    def send_reminder(visit_id: int) -> None:  # idempotent: safe to run twice
        ...

    send_reminder.on_commit(visit.pk)          # from a do_* service: queued only if the change commits

    @periodic_task(crontab(minute="*/15"))
    def check_ins() -> None: ...

Rules every task keeps: arguments are ids and plain values, never names or notes (they are kept
in the outcome table, ``TaskRun``, to queue a task again whose worker died); running a task twice
leaves the same end state as running it once (a worker killed mid-task runs it again); database
work happens inside the task, never in the function that queues it.
"""

from __future__ import annotations

import datetime as dt
import inspect
import logging
import os
import re
import socket
import traceback
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import close_old_connections, transaction
from django.utils import timezone
from huey import Huey, RedisHuey, SqliteHuey, crontab
from huey.api import TaskWrapper

__all__ = ["HUEY", "REGISTRY", "crontab", "periodic_task", "task", "worker_name"]

log = logging.getLogger("palpate.worker")


def _build() -> Huey:
    redis_url = getattr(settings, "PALPATE_REDIS_URL", "")
    if redis_url:
        return RedisHuey("palpate", url=redis_url, utc=True)
    # fsync: an acknowledged enqueue survives a power cut, like the database it describes.
    return SqliteHuey("palpate", filename=str(settings.HUEY_SQLITE_FILE), fsync=True, utc=True, timeout=10)


HUEY: Huey = _build()

# Every declared task by name: the worker re-queues interrupted runs from here.
REGISTRY: dict[str, TaskWrapper] = {}


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


_SAFE_TEXT = re.compile(r"^[\w.:+-]{0,40}$")


def summarize(args: tuple[Any, ...], kwargs: dict[str, Any], show: tuple[str, ...] = (),
              names: tuple[str, ...] = ()) -> str:
    """The arguments as owners may see them: numbers, dates and flags as they are, other text hidden
    unless the task names the argument in ``show`` (and it looks like an identifier)."""

    def one(name: str | None, value: Any) -> str:
        if value is None or isinstance(value, bool | int | float | dt.date):
            return repr(value) if not isinstance(value, dt.date) else value.isoformat()
        if isinstance(value, str) and name in show and _SAFE_TEXT.match(value):
            return value
        return f"<{type(value).__name__}>"

    positional = [(names[i] if i < len(names) else None, a) for i, a in enumerate(args)]
    parts = [f"{n}={one(n, a)}" if n else one(None, a) for n, a in positional]
    parts += [f"{k}={one(k, v)}" for k, v in sorted(kwargs.items())]
    return ", ".join(parts)[:200]


def _start(huey_task: Any, name: str, periodic: bool, args: tuple[Any, ...], kwargs: dict[str, Any],
           show: tuple[str, ...], names: tuple[str, ...]) -> int:
    from palpate.ops.models import TaskRun, TaskStatus

    row, created = TaskRun.objects.get_or_create(
        task_id=huey_task.id,
        defaults={"name": name, "periodic": periodic, "args_summary": summarize(args, kwargs, show, names),
                  "payload": {"args": list(args), "kwargs": kwargs}, "status": TaskStatus.RUNNING, "attempts": 1,
                  "started_at": timezone.now(), "worker": worker_name()},
    )
    if not created:
        TaskRun.objects.filter(pk=row.pk).update(status=TaskStatus.RUNNING, attempts=row.attempts + 1,
                                                 started_at=timezone.now(), finished_at=None, worker=worker_name())
    return row.pk


def _finish(pk: int, error: BaseException | None, will_retry: bool) -> None:
    from palpate.ops.models import TaskRun, TaskStatus

    if error is None:
        TaskRun.objects.filter(pk=pk).update(status=TaskStatus.SUCCEEDED, finished_at=timezone.now(), error="")
        return
    # The exception's type and message, and where it happened; never the arguments' values.
    where = traceback.extract_tb(error.__traceback__)[-1:] if error.__traceback__ else []
    place = f" at {where[0].filename.rsplit('/', 1)[-1]}:{where[0].lineno}" if where else ""
    TaskRun.objects.filter(pk=pk).update(
        status=TaskStatus.RETRYING if will_retry else TaskStatus.FAILED, finished_at=timezone.now(),
        error=f"{type(error).__name__}: {str(error)[:500]}{place}")


def _wrap(fn: Callable[..., Any], name: str, periodic: bool, show: tuple[str, ...]) -> Callable[..., Any]:
    names = tuple(inspect.signature(fn).parameters)

    def run(*args: Any, task: Any, **kwargs: Any) -> Any:
        # Each task starts and ends with fresh database connections: the worker is long-lived and a
        # connection broken by a database restart must not poison the next task.
        close_old_connections()
        pk = _start(task, name, periodic, args, kwargs, show, names)
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:
            _finish(pk, exc, will_retry=bool(task.retries))
            raise
        else:
            _finish(pk, None, will_retry=False)
            return result
        finally:
            close_old_connections()

    run.__name__ = fn.__name__
    run.__doc__ = fn.__doc__
    return run


def _register(wrapper: TaskWrapper, fn: Callable[..., Any], name: str) -> TaskWrapper:
    def on_commit(*args: Any, **kwargs: Any) -> None:
        """Queue the task once the current transaction commits (at once outside a transaction)."""
        transaction.on_commit(lambda: wrapper(*args, **kwargs))

    wrapper.on_commit = on_commit  # type: ignore[attr-defined]
    wrapper.call_local = fn  # type: ignore[method-assign]  # the plain function, for tests and the CLI
    wrapper.task_name = name  # type: ignore[attr-defined]
    REGISTRY[name] = wrapper
    return wrapper


def task(*, retries: int = 3, retry_delay: float = 10, backoff: float = 2.0, name: str | None = None,
         show: tuple[str, ...] = (), timeout: float | None = None) -> Callable[[Callable[..., Any]], TaskWrapper]:
    """Declare a background task: retried ``retries`` times, first after ``retry_delay`` seconds,
    each wait ``backoff`` times the one before; its outcome recorded in ``TaskRun``."""

    def decorate(fn: Callable[..., Any]) -> TaskWrapper:
        full = name or f"{fn.__module__}.{fn.__name__}"
        wrapper = HUEY.task(retries=retries, retry_delay=retry_delay, retry_backoff=backoff, context=True, name=full,
                            timeout=timeout)(_wrap(fn, full, False, show))
        return _register(wrapper, fn, full)

    return decorate


def periodic_task(schedule: Callable[[dt.datetime], bool], *, name: str | None = None,
                  timeout: float | None = None) -> Callable[[Callable[..., Any]], TaskWrapper]:
    """Declare a task the worker runs on a schedule (``crontab(...)``). No retries: the next run is one."""

    def decorate(fn: Callable[..., Any]) -> TaskWrapper:
        full = name or f"{fn.__module__}.{fn.__name__}"
        wrapper = HUEY.periodic_task(schedule, context=True, name=full, timeout=timeout)(_wrap(fn, full, True, ()))
        return _register(wrapper, fn, full)

    return decorate


def cron(expression: str) -> Callable[[dt.datetime], bool]:
    """A five-field cron expression (minute hour day month weekday) as a huey schedule."""
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"a schedule needs five fields (minute hour day month weekday), got {expression!r}")
    return crontab(minute=fields[0], hour=fields[1], day=fields[2], month=fields[3], day_of_week=fields[4])
