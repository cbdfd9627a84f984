"""Write and verify the audit trail.

``record_event`` must be called inside the transaction of the change it describes, so the change
and its audit row commit or roll back together. Actions call it explicitly (never a signal).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from palpate.audit.chain import event_digest
from palpate.audit.models import AuditChainHead, AuditEvent
from palpate.lib.http import Acting


def _jsonable(value: Any) -> Any:
    """Round-trip through Django's encoder so dates and decimals store (and hash) as strings."""
    if value is None:
        return None
    import json

    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def record_event(
    *,
    actor: Acting | None,
    action: str,
    clinic: Any = None,
    patient_id: int | None = None,
    obj: Any = None,
    old: dict[str, Any] | None = None,
    new: dict[str, Any] | None = None,
    ip_address: str | None = None,
) -> AuditEvent:
    if not connection.in_atomic_block:
        raise RuntimeError("record_event must run inside the transaction of the change it records")
    clinic = clinic or (actor.clinic if actor else None)
    if clinic is None:
        raise ValueError("an audit event needs a clinic")
    # Appends to a clinic's chain queue on its head row. Row locks in Palpate are FOR NO KEY
    # UPDATE, which still serialises writers of the same row but never blocks the key share lock
    # that inserting a row referencing it takes (see palpate.patients.services).
    head, _ = AuditChainHead.objects.select_for_update(no_key=True).get_or_create(clinic=clinic)
    seq = head.seq + 1
    created_at = timezone.now()
    user = actor.user if actor else None
    fields = {
        "clinic_id": clinic.pk,
        "seq": seq,
        "created_at": created_at,
        "actor_id": user.pk if user else None,
        "actor_name": user.get_username() if user else "system",
        "patient_id": patient_id,
        "action": action,
        "object_type": obj._meta.label_lower if obj is not None else "",
        "object_id": str(obj.pk) if obj is not None else "",
        "old": _jsonable(old),
        "new": _jsonable(new),
        "ip_address": ip_address,
        "prev_hash": head.last_hash,
    }
    digest = event_digest(**fields)
    event = AuditEvent.objects.create(hash=digest, **fields)
    head.seq = seq
    head.last_hash = digest
    head.save(update_fields=["seq", "last_hash"])
    return event


def record_read(actor: Acting, action: str, *, patient_id: int | None, obj: Any = None, ip_address: str | None = None,
                detail: dict[str, Any] | None = None) -> None:
    """Audit a read of patient data (chart opened, PDF exported, a list of patients shown) in its
    own transaction. Lists have no single patient: ``detail`` says what was asked for."""
    with transaction.atomic():
        record_event(actor=actor, action=action, patient_id=patient_id, obj=obj, ip_address=ip_address, new=detail)


@dataclass(frozen=True)
class ChainBreak:
    clinic_id: int
    seq: int
    event_id: int | None
    problem: str


@dataclass(frozen=True)
class VerifyReport:
    events_checked: int
    clinics_checked: int
    first_break: ChainBreak | None

    @property
    def ok(self) -> bool:
        return self.first_break is None


def verify_chain() -> VerifyReport:
    """Walk every clinic's chain in order; report the first link that does not hold."""
    checked = 0
    heads = {h.clinic_id: h for h in AuditChainHead.objects.all()}
    clinic_ids = sorted(set(heads) | set(AuditEvent.objects.values_list("clinic_id", flat=True).distinct()))
    for clinic_id in clinic_ids:
        expected_seq = 1
        prev_hash = ""
        for event in AuditEvent.objects.filter(clinic_id=clinic_id).order_by("seq").iterator(chunk_size=2000):
            checked += 1
            if event.seq != expected_seq:
                return VerifyReport(checked, len(clinic_ids), ChainBreak(
                    clinic_id, expected_seq, event.pk, f"event {expected_seq} is missing (next found is {event.seq})"))
            if event.prev_hash != prev_hash:
                return VerifyReport(checked, len(clinic_ids), ChainBreak(
                    clinic_id, event.seq, event.pk, "previous-hash link does not match the event before it"))
            recomputed = event_digest(
                clinic_id=event.clinic_id, seq=event.seq, created_at=event.created_at, actor_id=event.actor_id,
                actor_name=event.actor_name, patient_id=event.patient_id, action=event.action,
                object_type=event.object_type, object_id=event.object_id, old=event.old, new=event.new,
                ip_address=event.ip_address, prev_hash=event.prev_hash,
            )
            if recomputed != event.hash:
                return VerifyReport(checked, len(clinic_ids), ChainBreak(
                    clinic_id, event.seq, event.pk, "content does not match its hash (the event was altered)"))
            prev_hash = event.hash
            expected_seq += 1
        head = heads.get(clinic_id)
        if head is not None and (head.seq != expected_seq - 1 or head.last_hash != prev_hash):
            return VerifyReport(checked, len(clinic_ids), ChainBreak(
                clinic_id, expected_seq, None,
                f"chain ends at event {expected_seq - 1} but {head.seq} were written (events removed from the end)"))
    return VerifyReport(checked, len(clinic_ids), None)
