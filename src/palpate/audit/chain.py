"""The hash over one audit event: canonical JSON of its content plus the previous hash.

Events are keyed: ``hash`` is HMAC-SHA256 with the audit key (``palpate.audit.keys``), so
recomputing a chain after an edit needs the key, which is kept outside the database. Chains
written before keying (plain SHA-256) were sealed by a keyed ``audit.rekeyed`` event (migration
0004); ``verify`` accepts plain links only before a chain's first keyed event.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from palpate.audit.keys import mac


def canonical(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode("utf-8")


def _payload(
    *,
    clinic_id: int,
    seq: int,
    created_at: datetime,
    actor_id: int | None,
    actor_name: str,
    patient_id: int | None,
    action: str,
    object_type: str,
    object_id: str,
    old: Any,
    new: Any,
    ip_address: str | None,
    prev_hash: str,
) -> bytes:
    return canonical({
        "clinic": clinic_id,
        "seq": seq,
        "at": created_at.isoformat(timespec="microseconds"),
        "actor": actor_id,
        "actor_name": actor_name,
        "patient": patient_id,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "old": old,
        "new": new,
        "ip": ip_address,
        "prev": prev_hash,
    })


def event_digest(*, key: bytes | None = None, **fields: Any) -> str:
    """The keyed hash (HMAC-SHA256) of an event's content and its predecessor's hash."""
    return mac(_payload(**fields), key)


def legacy_event_digest(**fields: Any) -> str:
    """The plain SHA-256 that chains used before they were keyed (and what a forger without the key can compute)."""
    return hashlib.sha256(_payload(**fields)).hexdigest()


def event_fields(event: Any) -> dict[str, Any]:
    """The hashed content of a stored event (model instance)."""
    return {
        "clinic_id": event.clinic_id, "seq": event.seq, "created_at": event.created_at, "actor_id": event.actor_id,
        "actor_name": event.actor_name, "patient_id": event.patient_id, "action": event.action,
        "object_type": event.object_type, "object_id": event.object_id, "old": event.old, "new": event.new,
        "ip_address": event.ip_address, "prev_hash": event.prev_hash,
    }


def read_digest(*, key: bytes | None = None, clinic_id: int, created_at: datetime, actor_id: int | None,
                actor_name: str, patient_id: int | None, action: str, object_type: str, object_id: str,
                detail: Any, ip_address: str | None) -> str:
    """The keyed MAC of a staged read (``AuditRead``) before it is folded into the chain."""
    return mac(canonical({
        "kind": "read", "clinic": clinic_id, "at": created_at.isoformat(timespec="microseconds"),
        "actor": actor_id, "actor_name": actor_name, "patient": patient_id, "action": action,
        "object_type": object_type, "object_id": object_id, "detail": detail, "ip": ip_address,
    }), key)


def read_fields(read: Any) -> dict[str, Any]:
    return {
        "clinic_id": read.clinic_id, "created_at": read.created_at, "actor_id": read.actor_id,
        "actor_name": read.actor_name, "patient_id": read.patient_id, "action": read.action,
        "object_type": read.object_type, "object_id": read.object_id, "detail": read.detail,
        "ip_address": read.ip_address,
    }
