"""``palpate backup`` and ``palpate restore``: one archive holds everything needed to come back.

An archive (``palpate-backup-<UTC time>.tar.gz``, or ``.tar.gz.enc`` when encrypted) contains:

- ``manifest.json``: versions (Palpate, Django, Python, database server), the migrations applied,
  row counts of every table and the SHA-256 of every other member;
- ``database.sqlite3`` (SQLite's online backup API: a consistent copy while the server writes)
  or ``database.pgdump`` (``pg_dump -Fc`` run inside an exported snapshot, the same snapshot the
  row counts were taken in);
- ``secret_key``, ``audit_key`` and ``audit_anchor.jsonl`` from the data directory (keys that came
  from environment variables are not in the data directory and are noted as such).

The anchor file is copied *before* the database snapshot, so every anchor in an archive describes
a state the archived database contains, and a restored copy verifies.

``restore`` runs before Django is configured (it must see the data directory empty before settings
create anything in it), so this module imports Django only inside the backup side.
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import io
import json
import os
import platform
import re
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from palpate.ops import crypto

FORMAT = "palpate-backup/1"
ARCHIVE_PATTERN = re.compile(r"^palpate-backup-\d{8}T\d{6}(?:\d{6})?Z\.tar\.gz(?:\.enc)?$")
MEMBERS = {"manifest.json", "database.sqlite3", "database.pgdump", "secret_key", "audit_key", "audit_anchor.jsonl"}
SECRET_FILES = ("secret_key", "audit_key", "audit_anchor.jsonl")


class BackupError(Exception):
    """A backup could not be made; the message says why (no partial archive is left behind)."""


class RestoreRefused(Exception):
    """Bad input for a restore (exit 2): the target is not empty, the archive is not ours, a wrong key..."""


class RestoreFailed(Exception):
    """The restore started but did not complete (exit 1)."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size: int
    sha256: str
    encrypted: bool
    database: str
    seconds: float
    row_counts: dict[str, int]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _private_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# -- PostgreSQL tools ---------------------------------------------------------------------------------


def pg_tool(name: str, server_major: int | None) -> str:
    """``pg_dump``/``pg_restore`` no older than the server: Debian keeps one per major version."""
    override = os.environ.get(f"PALPATE_{name.upper()}")
    if override:
        return override
    candidates = []
    if server_major:
        candidates.append(Path(f"/usr/lib/postgresql/{server_major}/bin/{name}"))
    candidates += sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), key=lambda p: -int(p.parts[-3])
                         if p.parts[-3].isdigit() else 0)
    for candidate in candidates:
        if candidate.exists():
            return str(candidate)
    found = shutil.which(name)
    if found:
        return found
    raise BackupError(f"{name} is not installed (Debian: apt-get install postgresql-client-{server_major or 15})")


def pg_env(params: dict[str, Any]) -> dict[str, str]:
    """libpq environment for the tools: the password never appears on a command line (ps shows those)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    for var, key in (("PGHOST", "HOST"), ("PGPORT", "PORT"), ("PGUSER", "USER"), ("PGPASSWORD", "PASSWORD"),
                     ("PGDATABASE", "NAME")):
        if params.get(key):
            env[var] = str(params[key])
    return env


def _pg_connect(params: dict[str, Any]) -> Any:
    import psycopg

    return psycopg.connect(host=params.get("HOST") or None, port=params.get("PORT") or None,
                           user=params.get("USER") or None, password=params.get("PASSWORD") or None,
                           dbname=params["NAME"], connect_timeout=10)


def _pg_tables(cursor: Any) -> list[str]:
    cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
    return [row[0] for row in cursor.fetchall()]


def _counts_pg(cursor: Any) -> dict[str, int]:
    counts = {}
    for table in _pg_tables(cursor):
        cursor.execute(f'SELECT count(*) FROM "{table}"')
        counts[table] = int(cursor.fetchone()[0])
    return counts


def _counts_sqlite(conn: sqlite3.Connection) -> dict[str, int]:
    tables = [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    return {t: int(conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]) for t in tables}


def _latest_migrations(rows: list[tuple[str, str]]) -> dict[str, str]:
    latest: dict[str, str] = {}
    for app, name in rows:
        latest[app] = max(latest.get(app, ""), name)
    return dict(sorted(latest.items()))


# -- backup ----------------------------------------------------------------------------------------------


def _snapshot_sqlite(db_path: Path, target: Path) -> dict[str, Any]:
    source = sqlite3.connect(str(db_path), timeout=30)
    copy = sqlite3.connect(str(target))
    try:
        # One step (pages=-1): the whole database is copied inside one read transaction, so the copy
        # is the state at one instant, every commit before it included, while writers carry on.
        source.backup(copy, pages=-1)
        check = copy.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise BackupError(f"the copy of the database fails SQLite's check: {check}")
        counts = _counts_sqlite(copy)
        migrations = _latest_migrations(list(copy.execute("SELECT app, name FROM django_migrations")))
        version = sqlite3.sqlite_version
    finally:
        copy.close()
        source.close()
    os.chmod(target, 0o600)
    return {"vendor": "sqlite", "server_version": version, "file": "database.sqlite3", "row_counts": counts,
            "migrations": migrations}


def _snapshot_postgres(params: dict[str, Any], target: Path) -> dict[str, Any]:
    import psycopg

    with _pg_connect(params) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        with conn.cursor() as cursor:
            # The counts and pg_dump share this snapshot: the manifest describes exactly the dump.
            cursor.execute("SELECT pg_export_snapshot(), current_setting('server_version_num')::int")
            snapshot, version_num = cursor.fetchone()
            counts = _counts_pg(cursor)
            cursor.execute("SELECT app, name FROM django_migrations")
            migrations = _latest_migrations(list(cursor.fetchall()))
            tool = pg_tool("pg_dump", version_num // 10000)
            done = subprocess.run([tool, "--format=custom", "--no-owner", "--no-privileges", f"--snapshot={snapshot}",
                                   "--file", str(target)], env=pg_env(params), capture_output=True, text=True,
                                  check=False)
            if done.returncode != 0:
                raise BackupError(f"pg_dump failed: {done.stderr.strip()[-800:]}")
        conn.rollback()
    os.chmod(target, 0o600)
    return {"vendor": "postgresql", "server_version": str(version_num), "file": "database.pgdump",
            "row_counts": counts, "migrations": migrations}


def make_archive(dest_dir: Path, *, data_dir: Path, database: dict[str, Any], passphrase: bytes | None = None,
                 key_material: bytes | None = None, env_secrets: dict[str, bool] | None = None) -> BackupResult:
    """Write one archive into ``dest_dir``; nothing is left there if it fails."""
    started = time.monotonic()
    _private_dir(dest_dir)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    encrypted = passphrase is not None or key_material is not None
    final = dest_dir / f"palpate-backup-{stamp}.tar.gz{'.enc' if encrypted else ''}"
    work = Path(tempfile.mkdtemp(prefix=".palpate-backup-", dir=dest_dir))
    partial = final.with_name(final.name + ".partial")
    try:
        files: dict[str, Path] = {}
        for name in SECRET_FILES:  # the anchor first: see the module docstring
            source = data_dir / name
            if source.exists():
                shutil.copy2(source, work / name)
                os.chmod(work / name, 0o600)
                files[name] = work / name
        if database["ENGINE"].endswith("sqlite3"):
            db_info = _snapshot_sqlite(Path(database["NAME"]), work / "database.sqlite3")
        elif database["ENGINE"].endswith("postgresql"):
            db_info = _snapshot_postgres(database, work / "database.pgdump")
        else:
            raise BackupError(f"cannot back up a {database['ENGINE']} database")
        files[db_info["file"]] = work / db_info["file"]
        manifest = _manifest(db_info, files, env_secrets or {}, encrypted)
        (work / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True))
        plain = work / "archive.tar.gz"
        with tarfile.open(plain, "w:gz", compresslevel=6) as tar:
            for name in ["manifest.json", *sorted(files)]:
                tar.add(work / name, arcname=name, recursive=False)
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out, open(plain, "rb") as source_fh:
            if encrypted:
                crypto.encrypt_stream(source_fh, out, passphrase=passphrase, key_material=key_material)
            else:
                shutil.copyfileobj(source_fh, out, 1 << 20)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, final)
        _fsync_dir(dest_dir)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        if exc.errno == errno.ENOSPC:
            raise BackupError(f"no space left on the disk holding {dest_dir}; nothing was written") from exc
        raise BackupError(f"could not write the backup in {dest_dir}: {exc.strerror or exc}") from exc
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return BackupResult(final, final.stat().st_size, _sha256(final), encrypted, db_info["vendor"],
                        time.monotonic() - started, db_info["row_counts"])


def _manifest(db_info: dict[str, Any], files: dict[str, Path], env_secrets: dict[str, bool], encrypted: bool
              ) -> dict[str, Any]:
    from importlib.metadata import PackageNotFoundError, version

    try:
        palpate_version = version("palpate")
    except PackageNotFoundError:
        palpate_version = "unknown"
    import django

    return {
        "format": FORMAT,
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "palpate_version": palpate_version,
        "django_version": django.get_version(),
        "python_version": platform.python_version(),
        "host": platform.node(),
        "database": {k: db_info[k] for k in ("vendor", "server_version", "file", "migrations")},
        "row_counts": db_info["row_counts"],
        "files": {name: {"sha256": _sha256(path), "size": path.stat().st_size} for name, path in sorted(files.items())},
        "secrets": {
            name: ("environment variable (not in this backup: keep it with your other secrets)" if env_secrets.get(name)
                   else "included" if name in files else "missing")
            for name in ("secret_key", "audit_key")
        },
        "encrypted": encrypted,
    }


def read_secret_file(path: str | None, what: str) -> bytes | None:
    if not path:
        return None
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise RestoreRefused(f"cannot read the {what} {path}: {exc.strerror}") from exc
    if what == "passphrase file":
        data = data.rstrip(b"\r\n")
        if len(data) < 12:
            raise RestoreRefused("the passphrase must be at least 12 characters long")
    elif len(data) < 32:
        raise RestoreRefused("the key file must hold at least 32 bytes (e.g. head -c 32 /dev/urandom > backup.key)")
    return data


def backup_now(dest: Path | None = None, *, passphrase_file: str | None = None, key_file: str | None = None,
               slot: str = "", trigger: str = "command line") -> BackupResult:
    """Back up the configured database and data directory (the CLI and the scheduled task).

    A backup is a copy of every clinic's records, so each clinic's audit trail records it."""
    from django.conf import settings
    from django.db import transaction
    from django.utils import timezone

    from palpate.audit.services import record_event
    from palpate.clinics.models import Clinic
    from palpate.ops.models import Backup

    passphrase_file = passphrase_file or settings.PALPATE_BACKUP_PASSPHRASE_FILE or None
    key_file = key_file or settings.PALPATE_BACKUP_KEY_FILE or None
    if passphrase_file and key_file:
        raise RestoreRefused("give a passphrase file or a key file, not both")
    passphrase = read_secret_file(passphrase_file, "passphrase file")
    key_material = read_secret_file(key_file, "key file")
    target = Path(dest) if dest else Path(settings.PALPATE_BACKUP_DIR)
    result = make_archive(target.resolve(), data_dir=Path(settings.DATA_DIR), database=settings.DATABASES["default"],
                          passphrase=passphrase, key_material=key_material,
                          env_secrets={"secret_key": bool(os.environ.get("SECRET_KEY")),
                                       "audit_key": bool(os.environ.get("PALPATE_AUDIT_KEY"))})
    with transaction.atomic():
        Backup.objects.create(created_at=timezone.now(), slot=slot, path=str(result.path), size=result.size,
                              sha256=result.sha256, encrypted=result.encrypted, database=result.database,
                              duration_ms=int(result.seconds * 1000))
        for clinic in Clinic.objects.order_by("pk"):
            record_event(actor=None, clinic=clinic, action="backup.create",
                         new={"archive": result.path.name, "sha256": result.sha256, "encrypted": result.encrypted,
                              "trigger": trigger})
    return result


def prune_backups(directory: Path | None = None, keep: int | None = None) -> list[Path]:
    """Delete the oldest archives in the backup directory beyond the newest ``keep`` (only our own files)."""
    from django.conf import settings

    from palpate.ops.models import Backup

    directory = Path(directory or settings.PALPATE_BACKUP_DIR)
    keep = settings.PALPATE_BACKUP_KEEP if keep is None else keep
    if keep <= 0 or not directory.is_dir():
        return []
    archives = sorted((p for p in directory.iterdir() if ARCHIVE_PATTERN.match(p.name)), key=lambda p: p.name)
    doomed = archives[:-keep] if len(archives) > keep else []
    for path in doomed:
        path.unlink(missing_ok=True)
    if doomed:
        Backup.objects.filter(path__in=[str(p) for p in doomed]).update(pruned=True)
    return doomed


# -- restore ---------------------------------------------------------------------------------------------


@contextmanager
def _plain_archive(src: Path, passphrase: bytes | None, key_material: bytes | None, scratch: Path) -> Iterator[Path]:
    if not crypto.is_encrypted(src):
        yield src
        return
    plain = scratch / "archive.tar.gz"
    try:
        with open(src, "rb") as fh, open(plain, "wb") as out:
            for block in crypto.decrypt_stream(fh, passphrase=passphrase, key_material=key_material):
                out.write(block)
    except crypto.DecryptError as exc:
        raise RestoreRefused(str(exc)) from exc
    yield plain


def _extract(archive: Path, into: Path) -> dict[str, Any]:
    try:
        with tarfile.open(archive, "r:gz") as tar:
            members = tar.getmembers()
            names = {m.name for m in members}
            if "manifest.json" not in names or not names <= MEMBERS or not all(m.isfile() for m in members):
                raise RestoreRefused(f"{archive.name} is not a Palpate backup (unexpected contents)")
            for member in members:
                source = tar.extractfile(member)
                assert source is not None
                fd = os.open(into / member.name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as out:
                    shutil.copyfileobj(source, out, 1 << 20)
    except (tarfile.TarError, EOFError, OSError) as exc:
        if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
            raise RestoreFailed("no space left on the disk holding the data directory") from exc
        raise RestoreRefused(f"{archive.name} is not a readable Palpate backup: {exc}") from exc
    manifest = json.loads((into / "manifest.json").read_text())
    if manifest.get("format") != FORMAT:
        raise RestoreRefused(f"unknown backup format {manifest.get('format')!r}")
    for name, expected in manifest["files"].items():
        if not (into / name).exists() or _sha256(into / name) != expected["sha256"]:
            raise RestoreRefused(f"{name} in the backup does not match its checksum: the archive is damaged")
    return dict(manifest)


def _check_counts(expected: dict[str, int], found: dict[str, int]) -> list[str]:
    return [f"{table}: {count} rows in the backup, {found.get(table)} restored"
            for table, count in sorted(expected.items()) if found.get(table) != count]


def restore(src: Path, *, data_dir: Path, database_url: str | None, passphrase: bytes | None = None,
            key_material: bytes | None = None, out: Any = sys.stdout) -> int:
    """Restore ``src`` into an empty data directory (and, for PostgreSQL, an empty database);
    then check integrity and the audit trail. Returns 0 when everything holds, 1 when not."""
    if not src.is_file():
        raise RestoreRefused(f"no backup file at {src}")
    if data_dir.exists() and any(data_dir.iterdir()):
        entries = sorted(p.name for p in data_dir.iterdir())
        raise RestoreRefused(
            f"the data directory {data_dir} is not empty ({', '.join(entries[:5])}{' ...' if len(entries) > 5 else ''}); "
            "restore only into an empty data directory (set PALPATE_DATA_DIR to a new one, or move this one away)")
    _private_dir(data_dir)
    scratch = Path(tempfile.mkdtemp(prefix=".restore-", dir=data_dir))
    try:
        with _plain_archive(src, passphrase, key_material, scratch) as archive:
            manifest = _extract(archive, scratch)
        vendor = manifest["database"]["vendor"]
        params = None
        if vendor == "sqlite":
            if database_url:
                raise RestoreRefused("this backup is of an SQLite database, but DATABASE_URL is set: unset it to restore "
                                     "into the data directory")
        elif vendor == "postgresql":
            if not database_url or not database_url.startswith(("postgres://", "postgresql://")):
                raise RestoreRefused("this backup is of a PostgreSQL database: set DATABASE_URL to an empty database")
            import dj_database_url

            params = dj_database_url.parse(database_url)
            with _pg_connect(params) as conn, conn.cursor() as cursor:
                existing = _pg_tables(cursor)
            if existing:
                raise RestoreRefused(f"the database {params['NAME']} is not empty ({len(existing)} tables); restore only "
                                     "into an empty database")
        else:
            raise RestoreRefused(f"unknown database kind {vendor!r} in the backup")
        print(f"Restoring the backup of {manifest['created_at']} (Palpate {manifest['palpate_version']}, "
              f"{vendor} {manifest['database']['server_version']}) into {data_dir}", file=out, flush=True)
        if vendor == "sqlite":
            target = data_dir / "palpate.sqlite3"
            os.replace(scratch / "database.sqlite3", target)
            os.chmod(target, 0o600)
            with sqlite3.connect(str(target)) as conn:
                check = conn.execute("PRAGMA integrity_check").fetchone()[0]
                found = _counts_sqlite(conn)
            conn.close()
            if check != "ok":
                print(f"integrity check FAILED: {check}", file=out, flush=True)
                return 1
        else:
            assert params is not None
            with _pg_connect(params) as conn, conn.cursor() as cursor:
                cursor.execute("SELECT current_setting('server_version_num')::int")
                major = int(cursor.fetchone()[0]) // 10000
            done = subprocess.run([pg_tool("pg_restore", major), "--no-owner", "--no-privileges", "--exit-on-error",
                                   "--single-transaction", "--dbname", str(params["NAME"]),
                                   str(scratch / "database.pgdump")],
                                  env=pg_env(params), capture_output=True, text=True, check=False)
            if done.returncode != 0:
                raise RestoreFailed(f"pg_restore failed: {done.stderr.strip()[-800:]}")
            with _pg_connect(params) as conn, conn.cursor() as cursor:
                found = _counts_pg(cursor)
        # Keys and anchors last: a restore that failed above leaves the data directory reusable.
        for name in SECRET_FILES:
            if (scratch / name).exists():
                os.replace(scratch / name, data_dir / name)
        wrong = _check_counts(manifest["row_counts"], found)
        if wrong:
            print("integrity check FAILED: row counts differ from the manifest:\n  " + "\n  ".join(wrong),
                  file=out, flush=True)
            return 1
        print(f"integrity check passed: {sum(found.values())} rows in {len(found)} tables as in the manifest",
              file=out, flush=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    for name, how in manifest["secrets"].items():
        if how != "included":
            print(f"note: {name} was not in the backup ({how})", file=out, flush=True)
    env = {**os.environ, "PALPATE_DATA_DIR": str(data_dir)}
    if database_url:
        env["DATABASE_URL"] = database_url
    else:
        env.pop("DATABASE_URL", None)
    verified = subprocess.run([sys.executable, "-m", "palpate.cli", "audit", "verify", "--full"], env=env,
                              capture_output=True, text=True, check=False)
    print((verified.stdout + verified.stderr).strip(), file=out, flush=True)
    if verified.returncode != 0:
        print("The data is restored, but the audit trail does NOT verify (see above).", file=out, flush=True)
        return 1
    print("Restore complete. Start Palpate with this PALPATE_DATA_DIR"
          + (" and DATABASE_URL" if database_url else "") + " (palpate serve migrates if this version is newer).",
          file=out, flush=True)
    return 0


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def read_manifest(path: Path, passphrase: bytes | None = None, key_material: bytes | None = None) -> dict[str, Any]:
    """The manifest of an archive, without extracting the rest (for tools and tests)."""
    with tempfile.TemporaryDirectory() as tmp, _plain_archive(path, passphrase, key_material, Path(tmp)) as plain, \
            tarfile.open(plain, "r:gz") as tar:
        member = tar.extractfile("manifest.json")
        assert member is not None
        return dict(json.load(io.TextIOWrapper(member, encoding="utf-8")))
