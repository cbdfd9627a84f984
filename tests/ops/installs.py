"""Throw-away Palpate installations for tests that run the real commands (backup, restore, worker).

Each has its own data directory and, when the suite runs on PostgreSQL (``DATABASE_URL``), its own
database named ``ops_<random>`` on the same server, dropped afterwards.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]


def postgres_url() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith(("postgres://", "postgresql://")) else None


@dataclass
class Install:
    data_dir: Path
    database_url: str | None
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def env(self) -> dict[str, str]:
        # The browser tests set DJANGO_ALLOW_ASYNC_UNSAFE in this process; a real installation has no such thing.
        env = {k: v for k, v in os.environ.items()
               if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE")}
        env.update({"PALPATE_DATA_DIR": str(self.data_dir), "PALPATE_DEMO_PASSWORD": "palpate-demo",
                    "PYTHONUNBUFFERED": "1", **self.extra_env})
        if self.database_url:
            env["DATABASE_URL"] = self.database_url
        return env

    def palpate(self, *args: str, timeout: float = 300, check: bool = False) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([sys.executable, "-m", "palpate.cli", *args], cwd=ROOT, env=self.env,
                              capture_output=True, text=True, timeout=timeout, check=False)
        if check and done.returncode != 0:
            raise AssertionError(f"palpate {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
        return done

    def query(self, code: str) -> object:
        """Python in a Django shell of this installation; ``code`` prints one JSON value last."""
        done = self.palpate("manage", "shell", "-c", code, check=True)
        return json.loads(done.stdout.strip().splitlines()[-1])


def _admin(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql)


@contextlib.contextmanager
def database(base_url: str | None) -> Iterator[str | None]:
    """A new empty PostgreSQL database beside ``base_url``'s (None: SQLite, nothing to make)."""
    if not base_url:
        yield None
        return
    name = f"ops_{secrets.token_hex(5)}"
    _admin(base_url, f'CREATE DATABASE "{name}"')
    try:
        yield urlsplit(base_url)._replace(path=f"/{name}").geturl()
    finally:
        _admin(base_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def install(root: Path, name: str = "data", demo: bool = True, extra_env: dict[str, str] | None = None,
            prepare: bool = True) -> Iterator[Install]:
    with database(postgres_url()) as url:
        inst = Install(root / name, url, {"PALPATE_DEMO": "1" if demo else "0", **(extra_env or {})})
        if prepare:
            inst.palpate("prepare", check=True)
        yield inst


@contextlib.contextmanager
def empty_target(root: Path, name: str = "restored") -> Iterator[Install]:
    """Where a restore goes: a data directory that does not exist yet (and an empty database)."""
    with database(postgres_url()) as url:
        yield Install(root / name, url, {"PALPATE_DEMO": "0"})


WRITE_EVENTS = (
    "import json; from django.db import transaction; from palpate.audit.services import record_event; "
    "from palpate.clinics.models import Clinic\n"
    "for clinic in Clinic.objects.all():\n"
    "    for i in range({n}):\n"
    "        with transaction.atomic(): record_event(actor=None, clinic=clinic, action='test.write', new={{'i': i}})\n"
    "print(json.dumps(True))"
)
