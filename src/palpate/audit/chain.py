"""The hash over one audit event: canonical JSON of its content plus the previous hash."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any


def event_digest(
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
) -> str:
    payload = {
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
    }
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
