"""Faults on the served app: web workers killed with SIGKILL mid-write, the background worker killed.

Bounded: the load runs until both rounds of kills are done and writes flow again afterwards
(at most LOAD_LIMIT seconds, typically 15-30); 127.0.0.1 only.
"""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest
import requests

from tests.ops.installs import postgres_url
from tests.served import driver

pytestmark = pytest.mark.served

# The clients work until the test has seen what it waits for; this is only the upper bound, so a
# busy machine (CI shares its 2 cores) slows the test down instead of starving it of writes.
LOAD_LIMIT = 240.0


def _wait_for(condition, timeout: float, what: str) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_killing_the_web_workers_during_writes_loses_no_acknowledged_write(tmp_path):
    with driver.served(workers=2, database_url=postgres_url()) as app:
        tally = driver.Tally()
        stop = threading.Event()
        began = time.monotonic()
        clients = threading.Thread(target=driver.drive, args=(app.base,),
                                   kwargs={"clients": 6, "seconds": LOAD_LIMIT, "tally": tally, "stop": stop},
                                   daemon=True)
        clients.start()
        killed: list[int] = []
        for round_ in range(2):
            _wait_for(lambda n=round_: len(tally.save_log) >= 10 * (n + 1), 60, "writes to flow")
            workers = driver.process_tree(app)["web_workers"]
            assert workers, "no gunicorn workers found"
            for pid in workers:
                os.kill(pid, signal.SIGKILL)  # mid-request, mid-transaction: no chance to clean up
            killed += workers
            # gunicorn's master starts new workers; wait until they answer before killing again
            gone = set(killed)
            _wait_for(lambda gone=gone: set(driver.process_tree(app)["web_workers"]) - gone, 30, "new workers")
        # Writes flow again through the new workers before the load stops.
        after_kills = len(tally.save_log)
        _wait_for(lambda: len(tally.save_log) >= after_kills + 10, 60, "writes after the kills")
        stop.set()
        clients.join(LOAD_LIMIT + 200)
        print(f"killed {len(killed)} web workers; " + driver.summary(tally, time.monotonic() - began))
        # Requests in flight when their worker died failed (the client saw the connection drop, or
        # a response cut off part-way: IncompleteRead, and counts that as not acknowledged);
        # everything acknowledged must be stored. Never an error answer from the server.
        dropped = ("ConnectionError", "RemoteDisconnected", "Connection aborted", "IncompleteRead")
        assert all(any(d in e for d in dropped) for e in tally.errors), tally.errors[:5]
        assert len(tally.save_log) > 20 and tally.patients
        assert driver.missing_writes(app, tally) == []
        assert requests.get(f"{app.base}/healthz", timeout=10).status_code == 200
        verified = app.palpate("audit", "verify", "--full")
        assert verified.returncode == 0, verified.stdout + verified.stderr


def test_serve_starts_the_worker_again_when_it_is_killed(tmp_path):
    with driver.served(workers=1, database_url=postgres_url()) as app:
        (first,) = driver.process_tree(app)["worker"]
        os.kill(first, signal.SIGKILL)
        _wait_for(lambda: driver.process_tree(app)["worker"] not in ([], [first]), 30, "a new worker")
        _wait_for(lambda: requests.get(f"{app.base}/readyz", timeout=10).status_code == 200, 60, "ready again")
        assert "the worker stopped (exit -9); starting it again" in app.log()
