"""Pieces every clinical record shares: the tenant key, signing, and optimistic locking."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class RecordStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SIGNED = "signed", "Signed"


class SignedRecord(models.Model):
    """A clinical document that is edited as a draft, then signed and locked.

    ``version`` increases on every save; a save that started from an older version is refused
    (two people editing one draft: the second save is told, and keeps what it typed).
    """

    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=8, choices=RecordStatus.choices, default=RecordStatus.DRAFT)
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    @property
    def is_signed(self) -> bool:
        return self.status == RecordStatus.SIGNED
