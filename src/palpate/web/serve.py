"""``palpate serve``: prepare the database and run the app under gunicorn.

Migrations run on every start (they are a no-op when up to date); demo data is seeded only when
the database has no clinic yet and ``PALPATE_DEMO`` is not ``0``.
"""

from __future__ import annotations

import os
import sys


def serve(host: str, port: int, workers: int) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "palpate.web.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from palpate.clinics.models import Clinic

    call_command("migrate", interactive=False, verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    demo = os.environ.get("PALPATE_DEMO", "1") != "0"
    seeded = False
    if demo and not Clinic.objects.exists():
        call_command("demo", verbosity=0)
        seeded = True

    url = f"http://{host}:{port}/"
    print(f"Palpate is running at {url}  (data in {settings.DATA_DIR})", flush=True)
    if demo:
        from palpate.demo.seed import DEMO_USERNAMES, demo_password

        print("Demo data" + (" loaded." if seeded else " (already loaded)."), flush=True)
        print(f"Demo logins (password: {demo_password()}): {', '.join(DEMO_USERNAMES)}", flush=True)
    sys.stdout.flush()

    from gunicorn.app.wsgiapp import run

    sys.argv = [
        "gunicorn",
        "palpate.web.wsgi:application",
        "--bind", f"{host}:{port}",
        "--workers", str(workers),
        "--access-logfile", "-",
        # Path without the query string: searches carry patient names, which must not reach logs.
        "--access-logformat", '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)ss',
        "--forwarded-allow-ips", os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
    ]
    run()
    return 0
