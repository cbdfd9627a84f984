"""A task for the worker fault test: it waits for the test's go-ahead, then makes a real (idempotent) backup.

Loaded by the worker through ``PALPATE_EXTRA_TASK_MODULES=tests.ops.probe_tasks``, the way any app's
``tasks.py`` is loaded.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from palpate.ops.queue import task


@task(retries=0, show=("slot",))
def backup_when_released(slot: str, markers: str) -> None:
    directory = Path(markers)
    with open(directory / "attempts", "a") as fh:
        fh.write(f"{os.getpid()}\n")
    # The test kills the worker while this attempt waits here, mid-task.
    while not (directory / "release").exists():
        time.sleep(0.05)
    from palpate.ops.tasks import backup

    backup.call_local(slot)


@task(retries=0)
def where_am_i(markers: str) -> None:
    """Record the process it ran in and use the database from there (the process-worker test)."""
    from palpate.ops.models import TaskRun

    count = TaskRun.objects.count()
    (Path(markers) / f"ran-{os.getpid()}").write_text(f"{os.getppid()} {count}\n")
