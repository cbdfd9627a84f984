"""Audit events, chained per clinic.

Each clinic has its own chain (``seq`` 1, 2, 3 ...), so a later shard-by-clinic split keeps every
chain whole on one node. ``hash`` is an HMAC (keyed with the audit key, kept outside the database)
over the event's content and the previous event's hash; any edit, deletion or reordering breaks the
chain at that point, which ``palpate audit verify`` finds, and nobody without the key can recompute
it. Rows are never updated or deleted: the model refuses it and database triggers refuse it too.

Reads of patient data are first written to ``AuditRead``, a keyed staging log inserted without
taking the chain head, and folded into the chain in batches (``services.fold_reads``).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models


class AppendOnlyError(Exception):
    pass


class AuditChainHead(models.Model):
    """The last link of a clinic's chain; locked while an event is appended."""

    clinic = models.OneToOneField("clinics.Clinic", on_delete=models.PROTECT, primary_key=True, related_name="+")
    seq = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="")

    def __str__(self) -> str:
        return f"clinic {self.clinic_id} chain at #{self.seq}"


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("audit events are append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("audit events are append-only")


class AuditEvent(models.Model):
    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.PROTECT, related_name="+")
    seq = models.PositiveBigIntegerField()
    created_at = models.DateTimeField()
    # The actor is kept both as a link and as a name snapshot, so the trail still reads right
    # if the account is later renamed or removed.
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor_name = models.CharField(max_length=150, blank=True)
    # Plain ids, not foreign keys: the trail must outlive the rows it talks about.
    patient_id = models.BigIntegerField(null=True, blank=True)
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    old = models.JSONField(null=True, blank=True)
    new = models.JSONField(null=True, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["clinic_id", "seq"]
        constraints = [models.UniqueConstraint(fields=["clinic", "seq"], name="audit_unique_clinic_seq")]
        indexes = [models.Index(fields=["clinic", "patient_id", "seq"], name="audit_clinic_patient")]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} by {self.actor_name}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AppendOnlyError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("audit events are append-only")


class AuditRead(models.Model):
    """A read of patient data, recorded without queueing on the chain head.

    Each row carries its own keyed MAC, so it cannot be forged or altered unnoticed while it waits.
    ``services.fold_reads`` appends staged reads to their clinic's chain and deletes them in the
    same transaction: a read is always either here or in the chain, never in both or neither.
    Only folding deletes rows here; updates are refused by the model and by a database trigger.
    """

    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    actor_name = models.CharField(max_length=150, blank=True)
    patient_id = models.BigIntegerField(null=True, blank=True)
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    detail = models.JSONField(null=True, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    mac = models.CharField(max_length=64)

    class Meta:
        ordering = ["clinic_id", "id"]
        indexes = [models.Index(fields=["clinic", "id"], name="audit_read_clinic_id")]

    def __str__(self) -> str:
        return f"staged read {self.action} by {self.actor_name}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AppendOnlyError("staged audit reads are never changed")
        super().save(*args, **kwargs)
