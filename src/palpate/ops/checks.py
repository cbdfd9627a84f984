"""Palpate's own deployment checks, run by ``palpate check --deploy`` beside Django's.

Each finding is a Warning so that ``--fail-level WARNING`` (what ``palpate check --deploy`` uses)
exits non-zero on any of them.
"""

from __future__ import annotations

import datetime as dt
import os
import stat
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.checks import Tags, Warning, register


def _mode(path: Path) -> int | None:
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        return None


@register(Tags.security, deploy=True)
def https_on(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    if settings.HTTPS:
        return []
    return [Warning("Palpate is not set up for HTTPS.", hint="Serve it behind a TLS reverse proxy and set "
                    "PALPATE_HTTPS=1 (docs/deploy.md).", id="palpate.W001")]


@register(Tags.security, deploy=True)
def secret_key_kept_safe(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    problems = []
    key = settings.SECRET_KEY
    if key.startswith("django-insecure") or key in {"change-me", "changeme", "secret", "palpate"}:
        problems.append(Warning("SECRET_KEY is a placeholder.", hint="Unset it to have Palpate generate one, or set a "
                                "long random value.", id="palpate.W002"))
    key_file = Path(settings.DATA_DIR) / "secret_key"
    if not os.environ.get("SECRET_KEY") and (_mode(key_file) or 0) & 0o077:
        problems.append(Warning(f"{key_file} is readable by other users.", hint=f"chmod 600 {key_file}",
                                id="palpate.W003"))
    return problems


@register(Tags.security, deploy=True)
def data_directory_private(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    data = Path(settings.DATA_DIR)
    problems = []
    mode = _mode(data)
    if mode is not None and mode & 0o077:
        problems.append(Warning(f"The data directory {data} is open to other users (mode {mode:o}).",
                                hint=f"chmod 700 {data}", id="palpate.W004"))
    for name in ("palpate.sqlite3", "palpate.sqlite3-wal", "palpate.sqlite3-shm", "audit_key", "audit_anchor.jsonl",
                 "huey.sqlite3"):
        file_mode = _mode(data / name)
        if file_mode is not None and file_mode & 0o077:
            problems.append(Warning(f"{data / name} is readable by other users (mode {file_mode:o}).",
                                    hint=f"chmod 600 {data / name}", id="palpate.W005"))
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3") and settings.SQLITE_SYNCHRONOUS == "NORMAL":
        problems.append(Warning("PALPATE_SQLITE_SYNCHRONOUS=NORMAL: the last commits before a power cut can be lost.",
                                hint="Unset it (FULL) unless you accept that risk.", id="palpate.W006"))
    return problems


@register(Tags.security, deploy=True)
def backups_recent(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    from django.db import DatabaseError
    from django.utils import timezone

    from palpate.ops.models import Backup

    try:
        last = Backup.objects.filter(pruned=False).first()
    except DatabaseError:
        return [Warning("Cannot read the backup records (is the database migrated?).", hint="Run palpate prepare.",
                        id="palpate.W007")]
    hours = settings.PALPATE_BACKUP_MAX_AGE_HOURS
    if last is None:
        return [Warning("No backup has been made.", hint="Run palpate backup, and keep palpate worker running for the "
                        "scheduled ones.", id="palpate.W008")]
    if last.created_at < timezone.now() - dt.timedelta(hours=hours):
        return [Warning(f"The last backup is older than {hours} hours ({last.created_at:%Y-%m-%d %H:%M} UTC).",
                        hint="Check that palpate worker runs and the health page for failed backups.", id="palpate.W009")]
    if not Path(last.path).exists():
        return [Warning(f"The last backup {last.path} is no longer there.", hint="Check the backup disk.",
                        id="palpate.W010")]
    if Path(last.path).resolve().is_relative_to(Path(settings.DATA_DIR).resolve()):
        return [Warning("Backups are kept inside the data directory, on the same disk as the database.",
                        hint="Set PALPATE_BACKUP_DIR to a directory on another disk (docs/deploy.md).", id="palpate.W011")]
    return []


@register(Tags.security, deploy=True)
def audit_anchor_present(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    from django.db import DatabaseError

    from palpate.audit.anchor import anchor_path, read_anchors
    from palpate.audit.keys import AuditKeyError
    from palpate.audit.models import AuditEvent

    try:
        has_events = AuditEvent.objects.exists()
        anchors = read_anchors()
    except (DatabaseError, AuditKeyError) as exc:
        return [Warning(f"Cannot check the audit anchor: {exc}", id="palpate.W012")]
    if has_events and not anchors.exists:
        return [Warning(f"The audit trail has no anchor file ({anchor_path()}).", hint="Keep palpate worker running "
                        "(it anchors every minute) or run palpate audit verify.", id="palpate.W013")]
    if anchors.bad_lines:
        return [Warning("The audit anchor file has lines that fail the key check.", hint="Run palpate audit verify.",
                        id="palpate.W014")]
    return []
