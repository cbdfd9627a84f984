"""Faults on the served app: web workers killed with SIGKILL mid-write, the background worker killed.

Bounded: about 12 seconds of load; 127.0.0.1 only.
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

SECONDS = 12.0


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
        clients = threading.Thread(target=driver.drive, args=(app.base,),
                                   kwargs={"clients": 6, "seconds": SECONDS, "tally": tally}, daemon=True)
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
        clients.join(SECONDS + 200)
        print(f"killed {len(killed)} web workers; " + driver.summary(tally, SECONDS))
        # Requests in flight when their worker died failed (the client saw the connection drop and
        # counts that as not acknowledged); everything acknowledged must be stored.
        assert all("ConnectionError" in e or "RemoteDisconnected" in e or "Connection aborted" in e
                   for e in tally.errors), tally.errors[:5]
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
