"""Pieces every clinical record shares: the tenant key, signing, and optimistic locking."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from palpate.lib.voiding import Voidable


class RecordStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SIGNED = "signed", "Signed"


class SignedRecord(Voidable):
    """A clinical document that is edited as a draft, then signed and locked.

    ``version`` increases on every save; a save that started from an older version is refused
    (two people editing one draft: the second save is told, and keeps what it typed). An unsigned
    draft may be voided as entered in error (``palpate.lib.voiding``); a signed one never.
    """

    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=8, choices=RecordStatus.choices, default=RecordStatus.DRAFT)
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    version = models.PositiveIntegerField(default=1)
    # The episode's diagnosis as it stood when the record was signed: a signed document must
    # print the same later, even if the episode is corrected afterwards.
    signed_episode = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta(Voidable.Meta):
        abstract = True

    @property
    def is_signed(self) -> bool:
        return self.status == RecordStatus.SIGNED


EPISODE_FIELDS_SIGNED = ("diagnosis", "icd10_code", "condition", "body_region", "side", "payer", "referral_source")


def episode_at_signing(episode: object) -> dict[str, object]:
    return {name: getattr(episode, name) for name in EPISODE_FIELDS_SIGNED}


def sign_record(record: SignedRecord, user: object, now: object) -> None:
    """Mark ``record`` signed by ``user`` at ``now`` and keep the episode as it stood (caller saves)."""
    record.status = RecordStatus.SIGNED
    record.signed_by = user  # type: ignore[assignment]
    record.signed_at = now  # type: ignore[assignment]
    record.signed_episode = episode_at_signing(record.episode)  # type: ignore[attr-defined]


class SignedAddendum(models.Model):
    """A signed correction to a signed record, as visit notes have (``visits.Addendum``): saved with
    its author's signature and the time, never edited afterwards. Each record type adds the key to
    the record it corrects (``related_name="addenda"``)."""

    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.PROTECT, related_name="+")
    text = models.TextField()
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signed_at = models.DateTimeField()

    class Meta:
        abstract = True
        ordering = ["signed_at", "id"]

    def __str__(self) -> str:
        return f"Addendum {self.signed_at:%Y-%m-%d %H:%M}"


MAX_ADDENDUM_LENGTH = 20_000


def clean_addendum_text(record: SignedRecord, text: str) -> str:
    """The addendum's text, or ValueError saying what to fix; PermissionDenied on a draft."""
    from django.core.exceptions import PermissionDenied

    if not record.is_signed:
        raise PermissionDenied("This record is still a draft: edit it directly; addenda are for signed records.")
    text = (text or "").strip()
    if not text:
        raise ValueError("Write the correction or addition.")
    if len(text) > MAX_ADDENDUM_LENGTH:
        raise ValueError(f"The addendum is {len(text)} characters long; keep it under {MAX_ADDENDUM_LENGTH}.")
    return text
