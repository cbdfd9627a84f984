"""Write and verify the audit trail.

``record_event`` must be called inside the transaction of the change it describes, so the change
and its audit row commit or roll back together. Actions call it explicitly (never a signal).

``record_read`` audits a read of patient data. Reads are most of the trail and used to queue on
the clinic's chain head like writes; now each is one keyed row in ``AuditRead``, inserted without
the head lock, and ``fold_reads`` (the worker, every minute; the audit log page before it shows
the trail) appends them to the chain in batches.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from palpate.audit.anchor import AnchorFile, anchor_now, read_anchors
from palpate.audit.chain import event_digest, event_fields, legacy_event_digest, read_digest, read_fields
from palpate.audit.keys import audit_key
from palpate.audit.models import AuditChainHead, AuditEvent, AuditRead
from palpate.lib.http import Acting

log = logging.getLogger("palpate.audit")

# Reads folded per clinic per transaction: big enough to amortise the head lock, small enough
# that one fold never holds SQLite's write lock for long.
FOLD_BATCH = 500


def _without_nul(value: Any) -> Any:
    # PostgreSQL's jsonb refuses U+0000 (a 500 for whatever typed one, e.g. into a search): it is
    # kept as U+FFFD, which says a character was there and could not be stored.
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, list):
        return [_without_nul(item) for item in value]
    if isinstance(value, dict):
        return {_without_nul(key): _without_nul(item) for key, item in value.items()}
    return value


def _jsonable(value: Any) -> Any:
    """Round-trip through Django's encoder so dates and decimals store (and hash) as strings."""
    if value is None:
        return None
    return _without_nul(json.loads(json.dumps(value, cls=DjangoJSONEncoder)))


def _lock_head(clinic_id: int) -> AuditChainHead:
    # Appends to a clinic's chain queue on its head row. Row locks in Palpate are FOR NO KEY
    # UPDATE, which still serialises writers of the same row but never blocks the key share lock
    # that inserting a row referencing it takes (see palpate.patients.services).
    head, _ = AuditChainHead.objects.select_for_update(no_key=True).get_or_create(clinic_id=clinic_id)
    return head


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
    key = audit_key()
    head = _lock_head(clinic.pk)
    seq = head.seq + 1
    user = actor.user if actor else None
    fields = {
        "clinic_id": clinic.pk,
        "seq": seq,
        "created_at": timezone.now(),
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
    event = AuditEvent.objects.create(hash=event_digest(key=key, **fields), **fields)
    head.seq = seq
    head.last_hash = event.hash
    head.save(update_fields=["seq", "last_hash"])
    return event


def record_read(actor: Acting, action: str, *, patient_id: int | None, obj: Any = None, ip_address: str | None = None,
                detail: dict[str, Any] | None = None) -> None:
    """Audit a read of patient data (chart opened, PDF exported, a list of patients shown).

    Lists have no single patient: ``detail`` says what was asked for. The read is committed (in
    its own transaction, or the caller's) before the page is sent, so none is lost in a crash;
    it reaches the chain when the worker next folds.
    """
    user = actor.user
    fields = {
        "clinic_id": actor.clinic.pk,
        "created_at": timezone.now(),
        "actor_id": user.pk,
        "actor_name": user.get_username(),
        "patient_id": patient_id,
        "action": action,
        "object_type": obj._meta.label_lower if obj is not None else "",
        "object_id": str(obj.pk) if obj is not None else "",
        "detail": _jsonable(detail),
        "ip_address": ip_address,
    }
    with transaction.atomic():
        AuditRead.objects.create(mac=read_digest(**fields), **fields)


def fold_reads(clinic_ids: Iterable[int] | None = None, batch: int = FOLD_BATCH) -> int:
    """Append staged reads to their clinics' chains, oldest first; returns how many were folded.

    Safe to run at any time, in several processes at once and again after a crash: each batch
    takes the clinic's head lock, appends and deletes what it appended in one transaction.
    A staged row whose MAC does not hold is left where it is for ``verify_chain`` to report.
    """
    key = audit_key()
    if clinic_ids is None:
        clinic_ids = list(AuditRead.objects.values_list("clinic_id", flat=True).distinct().order_by("clinic_id"))
    folded = 0
    for clinic_id in clinic_ids:
        while True:
            with transaction.atomic():
                head = _lock_head(clinic_id)
                # Read after taking the lock: a concurrent folder's deletions are visible by now.
                staged = list(AuditRead.objects.filter(clinic_id=clinic_id).order_by("id")[:batch])
                good = [r for r in staged if r.mac == read_digest(key=key, **read_fields(r))]
                for bad in set(staged) - set(good):
                    log.error("staged audit read %s of clinic %s fails its key check; left for verify", bad.pk, clinic_id)
                events = []
                seq, prev = head.seq, head.last_hash
                for read in good:
                    seq += 1
                    fields = {
                        "clinic_id": clinic_id, "seq": seq, "created_at": read.created_at, "actor_id": read.actor_id,
                        "actor_name": read.actor_name, "patient_id": read.patient_id, "action": read.action,
                        "object_type": read.object_type, "object_id": read.object_id, "old": None,
                        "new": read.detail, "ip_address": read.ip_address, "prev_hash": prev,
                    }
                    prev = event_digest(key=key, **fields)
                    events.append(AuditEvent(hash=prev, **fields))
                if events:
                    AuditEvent.objects.bulk_create(events)
                    AuditRead.objects.filter(pk__in=[r.pk for r in good]).delete()
                    head.seq, head.last_hash = seq, prev
                    head.save(update_fields=["seq", "last_hash"])
                folded += len(events)
            if len(staged) < batch or not good:
                break
    return folded


# -- verification ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainBreak:
    clinic_id: int
    seq: int
    event_id: int | None
    problem: str


@dataclass
class VerifyReport:
    events_checked: int = 0
    clinics_checked: int = 0
    reads_checked: int = 0
    first_break: ChainBreak | None = None
    full: bool = True
    notes: list[str] = field(default_factory=list)  # what the operator should know even when intact
    started_from: dict[int, int] = field(default_factory=dict)  # clinic -> first seq re-read

    @property
    def ok(self) -> bool:
        return self.first_break is None


def _check_event(event: AuditEvent, key: bytes, keyed_seen: bool) -> tuple[str | None, bool]:
    """(problem or None, whether the event is keyed)."""
    fields = event_fields(event)
    if event.hash == event_digest(key=key, **fields):
        return None, True
    if event.hash == legacy_event_digest(**fields):
        if keyed_seen:
            return ("its hash is plain SHA-256 after the chain was keyed: the trail was recomputed "
                    "without the audit key (rewritten)"), False
        return None, False
    return "content does not match its hash (the event was altered)", False


def verify_chain(*, full: bool = True, anchors: AnchorFile | None = None, clinic_ids: Iterable[int] | None = None
                 ) -> VerifyReport:
    """Check every clinic's chain against the audit key and the last anchor; report the first break.

    ``full=False`` starts each clinic at its highest anchor (after checking the anchored event
    still holds) instead of event 1: what the worker runs every minute. ``full=True`` re-reads
    everything and checks every anchor ever written.
    """
    key = audit_key()
    anchors = anchors if anchors is not None else read_anchors()
    report = VerifyReport(full=full)
    if anchors.bad_lines:
        report.first_break = ChainBreak(0, 0, None, f"the anchor file has lines that fail the key check "
                                                    f"(lines {', '.join(map(str, anchors.bad_lines[:5]))}): it was edited")
        return report
    heads = {h.clinic_id: h for h in AuditChainHead.objects.all()}
    tops = dict(AuditEvent.objects.values("clinic_id").annotate(top=Max("seq")).values_list("clinic_id", "top"))
    all_ids = sorted(set(heads) | set(tops) | set(anchors.highest))
    if clinic_ids is not None:
        wanted = set(clinic_ids)
        all_ids = [c for c in all_ids if c in wanted]
    if not anchors.exists and tops:
        report.notes.append("no anchor file yet: an older database restored over this one could not be detected "
                            "before now (the first anchor is written after this check)")
    for clinic_id in all_ids:
        report.clinics_checked += 1
        brk = _verify_clinic(clinic_id, key, full, anchors, heads.get(clinic_id), tops.get(clinic_id, 0), report)
        if brk is not None:
            report.first_break = brk
            return report
    report.reads_checked, bad_read = _verify_staged_reads(key, clinic_ids)
    if bad_read is not None:
        report.first_break = bad_read
    return report


def _verify_clinic(clinic_id: int, key: bytes, full: bool, anchors: AnchorFile, head: AuditChainHead | None,
                   top: int, report: VerifyReport) -> ChainBreak | None:
    # Walk only up to the head as read now: writers append the event and move the head in one
    # transaction, so everything up to it is committed, and events appended while we walk are
    # checked next time instead of looking like a mismatch.
    if head is not None:
        top = head.seq
    anchor = anchors.highest.get(clinic_id)
    if anchor is not None and anchor.seq > top:
        return ChainBreak(clinic_id, top + 1, None,
                          f"chain ends at event {top} but event {anchor.seq} was anchored on {anchor.at} "
                          "(events removed from the end, or an older database restored over a newer anchor)")
    expected_seq, prev_hash, keyed_seen = 1, "", False
    anchored_hashes = anchors.every.get(clinic_id, {}) if full else {}
    if not full and anchor is not None:
        try:
            start = AuditEvent.objects.get(clinic_id=clinic_id, seq=anchor.seq)
        except AuditEvent.DoesNotExist:
            return ChainBreak(clinic_id, anchor.seq, None, f"anchored event {anchor.seq} is missing")
        if start.hash != anchor.hash:
            return ChainBreak(clinic_id, anchor.seq, start.pk,
                              f"event {anchor.seq} is not the one anchored on {anchor.at} (the chain was rewritten)")
        if start.hash != event_digest(key=key, **event_fields(start)):
            return ChainBreak(clinic_id, anchor.seq, start.pk, "content does not match its hash (the event was altered)")
        report.events_checked += 1
        expected_seq, prev_hash, keyed_seen = anchor.seq + 1, start.hash, True
    report.started_from[clinic_id] = expected_seq
    events = AuditEvent.objects.filter(clinic_id=clinic_id, seq__gte=expected_seq, seq__lte=top).order_by("seq")
    for event in events.iterator(chunk_size=2000):
        report.events_checked += 1
        if event.seq != expected_seq:
            return ChainBreak(clinic_id, expected_seq, event.pk,
                              f"event {expected_seq} is missing (next found is {event.seq})")
        if event.prev_hash != prev_hash:
            return ChainBreak(clinic_id, event.seq, event.pk, "previous-hash link does not match the event before it")
        problem, keyed = _check_event(event, key, keyed_seen)
        if problem:
            return ChainBreak(clinic_id, event.seq, event.pk, problem)
        keyed_seen = keyed_seen or keyed
        if event.seq in anchored_hashes and anchored_hashes[event.seq] != event.hash:
            return ChainBreak(clinic_id, event.seq, event.pk, "event differs from the one anchored (the chain was rewritten)")
        prev_hash = event.hash
        expected_seq += 1
    last = expected_seq - 1
    if last and not keyed_seen:
        return ChainBreak(clinic_id, last, None, "no event of this chain is keyed with the audit key: it was "
                                                 "recomputed without the key, or the key is not this installation's")
    if head is not None and (head.seq != last or head.last_hash != prev_hash):
        return ChainBreak(clinic_id, expected_seq, None,
                          f"chain ends at event {last} but {head.seq} were written (events removed from the end)")
    beyond = AuditEvent.objects.filter(clinic_id=clinic_id, seq__gt=top).aggregate(top=Max("seq"))["top"]
    if beyond is not None:
        now_at = AuditChainHead.objects.filter(clinic_id=clinic_id).values_list("seq", flat=True).first() or 0
        if beyond > now_at:
            return ChainBreak(clinic_id, now_at + 1, None, f"events up to {beyond} stored beyond the chain head "
                                                           f"({now_at}): inserted outside Palpate")
    return None


def _verify_staged_reads(key: bytes, clinic_ids: Iterable[int] | None) -> tuple[int, ChainBreak | None]:
    reads = AuditRead.objects.order_by("id")
    if clinic_ids is not None:
        reads = reads.filter(clinic_id__in=list(clinic_ids))
    checked = 0
    for read in reads.iterator(chunk_size=2000):
        checked += 1
        if read.mac != read_digest(key=key, **read_fields(read)):
            return checked, ChainBreak(read.clinic_id, 0, None,
                                       f"staged read {read.pk} ({read.action}) fails its key check (forged or altered)")
    return checked, None


def verify_and_anchor(*, full: bool = False) -> VerifyReport:
    """Verify, and when everything holds, anchor each head that moved (the worker's minute job)."""
    report = verify_chain(full=full)
    if report.ok:
        written = anchor_now()
        if written:
            report.notes.append(f"anchored {len(written)} chain head(s)")
    return report
