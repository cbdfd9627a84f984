"""``palpate serve``: prepare the database in a child process, then run the app under gunicorn.

Start-up work (migrations, static files, the demo on first start) runs in its own process
(``palpate prepare``) and ends before gunicorn starts, so the gunicorn master never opens a
database connection that its forked workers could inherit and share (see
``palpate.web.forking``). Migrations are a no-op when up to date; demo data is seeded only when
the database has no clinic yet and ``PALPATE_DEMO`` is not ``0``.
"""

from __future__ import annotations

import os
import subprocess
import sys


def prepare() -> int:
    """Migrate, collect static files and load the demo on first start (``palpate prepare``)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "palpate.web.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from palpate.clinics.models import Clinic
    from palpate.web.forking import close_connections

    call_command("migrate", interactive=False, verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
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
    return 0


def serve(host: str, port: int, workers: int) -> int:
    prepared = subprocess.run([sys.executable, "-m", "palpate.cli", "prepare"], check=False)
    if prepared.returncode != 0:
        print("Palpate could not prepare its database; see the messages above.", file=sys.stderr, flush=True)
        return prepared.returncode
    print(f"Palpate is running at http://{host}:{port}/", flush=True)

    from gunicorn.app.wsgiapp import run

    sys.argv = [
        "gunicorn",
        "palpate.web.wsgi:application",
        "--config", "python:palpate.web.gunicorn_conf",
        "--bind", f"{host}:{port}",
        "--workers", str(workers),
        "--access-logfile", "-",
        # Path without the query string: searches carry patient names, which must not reach logs.
        "--access-logformat", '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)ss',
        "--forwarded-allow-ips", os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
    ]
    run()
    return 0
