"""The audit key: what makes the trail's hashes unforgeable by someone who can only reach the database.

The key never lives in the database. It comes from ``PALPATE_AUDIT_KEY`` (at least 32 characters)
or from ``$PALPATE_DATA_DIR/audit_key``, generated on first use with mode 0600 beside
``secret_key``. Whoever can change the database but not read this key cannot recompute a chain
that ``palpate audit verify`` accepts. Back it up with the database (``palpate backup`` does):
without it the trail can still be read, but no longer proven.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from functools import lru_cache
from pathlib import Path

KEY_FILE_NAME = "audit_key"
ENV_VAR = "PALPATE_AUDIT_KEY"
MIN_ENV_KEY_LENGTH = 32


class AuditKeyError(RuntimeError):
    pass


def key_file(data_dir: Path | None = None) -> Path:
    if data_dir is None:
        from django.conf import settings

        data_dir = Path(settings.DATA_DIR)
    return data_dir / KEY_FILE_NAME


def write_new_key(path: Path) -> None:
    """Create the key file with 0600 from the start (O_EXCL: never overwrite an existing key)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_hex(32) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


@lru_cache(maxsize=4)
def _load(env_value: str | None, path: str) -> bytes:
    if env_value:
        if len(env_value) < MIN_ENV_KEY_LENGTH:
            raise AuditKeyError(f"{ENV_VAR} must be at least {MIN_ENV_KEY_LENGTH} characters long")
        return env_value.encode("utf-8")
    file = Path(path)
    if not file.exists():
        try:
            write_new_key(file)
        except FileExistsError:
            pass  # another process created it first; read theirs
    text = file.read_text().strip()
    if len(text) < MIN_ENV_KEY_LENGTH:
        raise AuditKeyError(f"the audit key file {file} is too short or empty")
    return text.encode("utf-8")


def audit_key() -> bytes:
    return _load(os.environ.get(ENV_VAR) or None, str(key_file()))


def key_from_environment() -> bool:
    return bool(os.environ.get(ENV_VAR))


def forget_cached_key() -> None:
    _load.cache_clear()


def mac(data: bytes, key: bytes | None = None) -> str:
    return hmac.new(key if key is not None else audit_key(), data, hashlib.sha256).hexdigest()


def key_fingerprint(key: bytes | None = None) -> str:
    """A short public name for the key (its hash), so a checkpoint says which key signed it."""
    digest = hashlib.sha256(b"palpate-audit-key-id:" + (key if key is not None else audit_key())).digest()
    return base64.b32encode(digest[:10]).decode("ascii").lower()
