"""Anchors: each clinic's chain head, written outside the database to an append-only file.

An anchor line records (clinic, seq, hash) of a chain's last event, keyed with the audit key so it
cannot be forged without it. The file lives in the data directory (``audit_anchor.jsonl``, mode
0600) and is only ever appended to. ``palpate audit verify`` compares the database with the
highest anchor of each clinic: a chain shorter than its anchor lost events (deleted from the end,
or an older database restored over a newer anchor); a different hash at the anchored position
means the chain was rewritten.

Anchors are written by the worker every minute (when a head moved), after every successful
verify, and by ``palpate audit anchor``. Anything appended after the last anchor is protected by
the keyed chain only: truncating it is visible once the next anchor would have been written.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from palpate.audit.chain import canonical
from palpate.audit.keys import mac

ANCHOR_FILE_NAME = "audit_anchor.jsonl"


@dataclass(frozen=True)
class Anchor:
    clinic_id: int
    seq: int
    hash: str
    at: str


@dataclass
class AnchorFile:
    exists: bool
    highest: dict[int, Anchor] = field(default_factory=dict)  # per clinic, the anchor with the highest seq
    every: dict[int, dict[int, str]] = field(default_factory=dict)  # per clinic, seq -> hash of every anchor
    bad_lines: list[int] = field(default_factory=list)  # line numbers whose key check fails


def anchor_path(data_dir: Path | None = None) -> Path:
    if data_dir is None:
        from django.conf import settings

        configured = getattr(settings, "AUDIT_ANCHOR_FILE", None)
        return Path(configured) if configured else Path(settings.DATA_DIR) / ANCHOR_FILE_NAME
    return data_dir / ANCHOR_FILE_NAME


def _signed(body: dict[str, Any]) -> dict[str, Any]:
    return {**body, "mac": mac(canonical(body))}


def append_anchors(anchors: list[Anchor], path: Path | None = None) -> None:
    if not anchors:
        return
    path = path or anchor_path()
    lines = "".join(
        json.dumps(_signed({"clinic": a.clinic_id, "seq": a.seq, "hash": a.hash, "at": a.at}), sort_keys=True) + "\n"
        for a in anchors
    )
    # O_APPEND: every write lands at the end, even with several writers; 0600 from creation.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, lines.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


def read_anchors(path: Path | None = None) -> AnchorFile:
    path = path or anchor_path()
    if not path.exists():
        return AnchorFile(exists=False)
    result = AnchorFile(exists=True)
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                doc = json.loads(line)
                body = {k: doc[k] for k in ("clinic", "seq", "hash", "at")}
                ok = isinstance(doc.get("mac"), str) and doc["mac"] == mac(canonical(body))
            except (ValueError, KeyError, TypeError):
                ok = False
            if not ok:
                result.bad_lines.append(number)
                continue
            anchor = Anchor(int(body["clinic"]), int(body["seq"]), str(body["hash"]), str(body["at"]))
            result.every.setdefault(anchor.clinic_id, {})[anchor.seq] = anchor.hash
            best = result.highest.get(anchor.clinic_id)
            if best is None or anchor.seq > best.seq:
                result.highest[anchor.clinic_id] = anchor
    return result


def current_heads() -> dict[int, tuple[int, str]]:
    """Each clinic's last stored event as (seq, hash)."""
    from django.db.models import Max

    from palpate.audit.models import AuditEvent

    heads: dict[int, tuple[int, str]] = {}
    last = AuditEvent.objects.values("clinic_id").annotate(top=Max("seq"))
    for row in last:
        event = AuditEvent.objects.only("hash").get(clinic_id=row["clinic_id"], seq=row["top"])
        heads[row["clinic_id"]] = (row["top"], event.hash)
    return heads


def anchor_now(path: Path | None = None) -> list[Anchor]:
    """Append an anchor for every clinic whose chain grew since its highest anchor.

    A chain *shorter* than its anchor is never re-anchored lower: that is exactly what verify must
    keep reporting (an older database restored, or events removed).
    """
    existing = read_anchors(path)
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    new = []
    for clinic_id, (seq, digest) in sorted(current_heads().items()):
        best = existing.highest.get(clinic_id)
        if best is None or seq > best.seq:
            new.append(Anchor(clinic_id, seq, digest, now))
    append_anchors(new, path)
    return new
