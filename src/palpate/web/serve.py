"""``palpate serve``: prepare the database in a child process, then supervise gunicorn and the worker.

Start-up work (migrations, static files, the demo on first start) runs in its own process
(``palpate prepare``) and ends before anything else starts, so no process that forks ever holds a
database connection its children could inherit and share (see ``palpate.lib.forking``).
Migrations are a no-op when up to date; demo data is seeded only when the database has no clinic
yet and ``PALPATE_DEMO`` is not ``0``.

Then ``serve`` is a small supervisor with two children: gunicorn (its master forks the web
workers) and ``palpate worker`` (the background queue). SIGTERM or SIGINT stops both and waits for
them. A worker that dies is started again (a crash loop stops everything); when gunicorn ends,
the worker is stopped and ``serve`` exits with gunicorn's status. Production runs the two as
separate systemd services instead (``--without-worker``; docs/deploy.md).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time


def prepare() -> int:
    """Migrate, collect static files, bring clinic settings within their safe bounds (audited, see
    palpate.ops.policy_bounds) and load the demo on first start (``palpate prepare``)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "palpate.web.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from palpate.clinics.models import Clinic
    from palpate.lib.forking import close_connections

    call_command("migrate", interactive=False, verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    from palpate.ops.policy_bounds import do_bring_policies_to_bounds

    for brought in do_bring_policies_to_bounds():  # settings stored before their safe bounds (audited)
        print(f"Clinic settings brought within their safe bounds: {brought.describe()}", flush=True)
    demo = os.environ.get("PALPATE_DEMO", "1") != "0"
    seeded = False
    if demo and not Clinic.objects.exists():
        call_command("demo", verbosity=0)
        seeded = True
    close_connections()
    print(f"Data in {settings.DATA_DIR}", flush=True)
    if demo:
        from palpate.demo.seed import DEMO_USERNAMES, demo_password

        print("Demo data" + (" loaded." if seeded else " (already loaded)."), flush=True)
        print(f"Demo logins (password: {demo_password()}): {', '.join(DEMO_USERNAMES)}", flush=True)
        from palpate.demo.portal import portal_logins

        for slug, emails in portal_logins().items():
            print(f"Patient portal {settings.PALPATE_BASE_URL}/portal/{slug}/sign-in/ (password: {demo_password()}): "
                  f"{', '.join(emails)}", flush=True)
    return 0


GUNICORN_STOP_SECONDS = 35
WORKER_RESTARTS_PER_MINUTE = 5


def gunicorn_command(host: str, port: int, workers: int) -> list[str]:
    return [
        sys.executable, "-m", "gunicorn",
        "palpate.web.wsgi:application",
        "--config", "python:palpate.web.gunicorn_conf",
        "--bind", f"{host}:{port}",
        "--workers", str(workers),
        "--graceful-timeout", "30",
        "--access-logfile", "-",
        # Path without the query string: searches carry patient names, which must not reach logs.
        "--access-logformat", '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)ss',
        "--forwarded-allow-ips", os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
    ]


def _say(message: str) -> None:
    print(f"palpate serve: {message}", flush=True)


def _stop(process: subprocess.Popen[bytes] | None, name: str, seconds: float) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(seconds)
    except subprocess.TimeoutExpired:
        _say(f"{name} did not stop within {seconds:.0f} s; killing it")
        process.kill()
        process.wait()


def serve(host: str, port: int, workers: int, with_worker: bool = True) -> int:
    prepared = subprocess.run([sys.executable, "-m", "palpate.cli", "prepare"], check=False)
    if prepared.returncode != 0:
        print("Palpate could not prepare its database; see the messages above.", file=sys.stderr, flush=True)
        return prepared.returncode

    wake = threading.Event()
    stopping: list[int] = []

    def on_stop(signum: int, frame: object) -> None:
        stopping.append(signum)
        wake.set()

    def on_child(signum: int, frame: object) -> None:
        wake.set()

    signal.signal(signal.SIGTERM, on_stop)
    signal.signal(signal.SIGINT, on_stop)
    signal.signal(signal.SIGCHLD, on_child)

    worker_command = [sys.executable, "-m", "palpate.cli", "worker"]
    worker = subprocess.Popen(worker_command) if with_worker else None
    web = subprocess.Popen(gunicorn_command(host, port, workers))
    print(f"Palpate is running at http://{host}:{port}/" + (" (with its background worker)" if with_worker else ""),
          flush=True)
    restarts: list[float] = []
    status = 0
    try:
        while not stopping:
            wake.wait(5)
            wake.clear()
            if stopping:
                break
            if web.poll() is not None:
                _say(f"gunicorn stopped (exit {web.returncode}); stopping the worker")
                status = web.returncode or 1
                break
            if worker is not None and worker.poll() is not None:
                now = time.monotonic()
                restarts = [t for t in restarts if now - t < 60] + [now]
                if len(restarts) > WORKER_RESTARTS_PER_MINUTE:
                    _say("the worker keeps dying; stopping Palpate (see the messages above)")
                    status = 1
                    break
                _say(f"the worker stopped (exit {worker.returncode}); starting it again")
                worker = subprocess.Popen(worker_command)
    finally:
        # Both at once, then wait: the worker finishes its running task while gunicorn finishes its requests.
        for process in (web, worker):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
        _stop(web, "gunicorn", GUNICORN_STOP_SECONDS)
        _stop(worker, "the worker", GUNICORN_STOP_SECONDS)
    return status
