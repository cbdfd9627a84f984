"""``make run`` starts the web server and the background worker; stopping it stops both."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests

from tests.served import driver

pytestmark = pytest.mark.served


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return not (Path("/proc") / str(pid) / "stat").read_text().split(") ")[1].startswith("Z")


def _descendants(pid: int) -> list[int]:
    found = []
    for child in driver.children(pid):
        found += [child, *_descendants(child)]
    return found


def _wait_until_gone(pids: list[int], timeout: float) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.1)
    return [p for p in pids if _alive(p)]


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_serve_runs_gunicorn_and_the_worker_and_one_signal_stops_them_all(stop):
    with driver.served(workers=1) as app:
        tree = driver.process_tree(app)
        assert len(tree["gunicorn"]) == 1 and len(tree["web_workers"]) == 1 and len(tree["worker"]) == 1
        ready = requests.get(f"{app.base}/readyz", timeout=10).json()
        assert ready["checks"]["worker"]["ok"], ready
        everyone = [app.process.pid, *_descendants(app.process.pid)]
        app.process.send_signal(stop)  # to serve alone, not its process group: serve must pass it on
        assert app.process.wait(60) == 0
        assert _wait_until_gone(everyone, 30) == []
        assert "worker" in app.log() and "stopped" in app.log()


def test_make_run_serves_with_the_worker_and_ctrl_c_stops_everything(tmp_path):
    root = Path(__file__).resolve().parents[2]
    port = driver.free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
    env.update({"PALPATE_DATA_DIR": str(tmp_path / "data"), "PORT": str(port), "PALPATE_DEMO": "0"})
    with open(tmp_path / "make.log", "wb") as log:
        make = subprocess.Popen(["make", "--no-print-directory", "run"], cwd=root, env=env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if requests.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert make.poll() is None, (tmp_path / "make.log").read_text()
            time.sleep(0.3)
        else:
            raise AssertionError("make run never became ready:\n" + (tmp_path / "make.log").read_text())
        everyone = [make.pid, *_descendants(make.pid)]
        commands = " ".join(driver.command_line(p) for p in everyone)
        assert "gunicorn" in commands and "palpate.cli worker" in commands
        os.killpg(make.pid, signal.SIGINT)  # what Ctrl-C in the terminal sends: the whole foreground group
        make.wait(60)
        assert _wait_until_gone(everyone, 30) == []
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGKILL)
            make.wait()
