"""The worker killed mid-task (kill -9) runs the task again, to the same end state, when it starts again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable

from tests.ops.installs import ROOT, install


def wait_for(condition: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def _worker(env: dict[str, str], log) -> subprocess.Popen[bytes]:  # noqa: ANN001
    return subprocess.Popen([sys.executable, "-m", "palpate.cli", "worker"], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT)


RUN = ("import json; from palpate.ops.models import TaskRun; r = TaskRun.objects.filter(name__endswith="
       "'backup_when_released').first(); print(json.dumps([r.status, r.attempts, r.args_summary] if r else None))")


def test_a_worker_killed_mid_task_runs_it_again_to_the_same_end_state(tmp_path):
    markers = tmp_path / "markers"
    markers.mkdir()
    env = {"PALPATE_EXTRA_TASK_MODULES": "tests.ops.probe_tasks", "PALPATE_BACKUP_DIR": str(tmp_path / "backups")}
    with install(tmp_path, demo=False, extra_env=env) as inst, open(tmp_path / "worker.log", "wb") as log:
        first = _worker(inst.env, log)
        try:
            inst.query("import json; from tests.ops.probe_tasks import backup_when_released; "
                       f"backup_when_released('slot-7', {str(markers)!r}); print(json.dumps(True))")
            wait_for(lambda: (markers / "attempts").exists(), 60, "the task to start")
            assert inst.query(RUN) == ["running", 1, "slot=slot-7, markers=<str>"]
            os.kill(first.pid, signal.SIGKILL)
            first.wait(10)
        finally:
            if first.poll() is None:
                first.kill()
        (markers / "release").touch()
        second = _worker(inst.env, log)
        try:
            wait_for(lambda: inst.query(RUN)[0] == "succeeded", 90, "the task to run again and succeed")
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(60)
        status, attempts, summary = inst.query(RUN)
        assert attempts == 2 and summary == "slot=slot-7, markers=<str>"  # the path is text it was not told to show
        assert len((markers / "attempts").read_text().split()) == 2
        assert inst.query("import json; from palpate.ops.models import Backup; "
                          "print(json.dumps(list(Backup.objects.values_list('slot', flat=True))))") == ["slot-7"]
        assert len(list((tmp_path / "backups").glob("palpate-backup-*"))) == 1
        assert b"1 interrupted task(s) queued again" in (tmp_path / "worker.log").read_bytes()
        # Thread workers are not forked: none may drop the pool another thread is using (on
        # PostgreSQL that once left the re-run task a pool that was not open, and it failed).
        assert b"inherited" not in (tmp_path / "worker.log").read_bytes()


def test_process_workers_are_forked_without_a_database_connection_and_use_their_own(tmp_path):
    markers = tmp_path / "markers"
    markers.mkdir()
    env = {"PALPATE_EXTRA_TASK_MODULES": "tests.ops.probe_tasks", "PALPATE_WORKER_TYPE": "process",
           "PALPATE_WORKER_THREADS": "2"}
    with install(tmp_path, demo=False, extra_env=env) as inst, open(tmp_path / "worker.log", "wb") as log:
        worker = _worker(inst.env, log)
        try:
            inst.query("import json; from tests.ops.probe_tasks import where_am_i\n"
                       f"for _ in range(4): where_am_i({str(markers)!r})\nprint(json.dumps(True))")
            wait_for(lambda: inst.query(
                "import json; from palpate.ops.models import TaskRun; print(json.dumps("
                "TaskRun.objects.filter(name__endswith='where_am_i', status='succeeded').count()))") == 4,
                90, "four tasks to succeed")
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(60)
        parents = {p.read_text().split()[0] for p in markers.glob("ran-*")}
        assert parents == {str(worker.pid)}  # forked children of the worker process ran them
        assert b"inherited" not in (tmp_path / "worker.log").read_bytes()


def test_a_thread_worker_starting_leaves_the_pool_its_sibling_uses(db):  # noqa: ANN001
    """Thread workers share the consumer's process: the start-up hook must not drop its connections."""
    from django.db import connection

    from palpate.lib.forking import _inherited
    from palpate.ops.worker import forget_connections_if_forked

    connection.ensure_connection()
    held, kept = connection.connection, len(_inherited)
    assert forget_connections_if_forked(os.getpid()) == 0
    assert connection.connection is held and len(_inherited) == kept
    with connection.cursor() as cursor:  # still the same working connection
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)
