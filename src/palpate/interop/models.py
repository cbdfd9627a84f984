"""API tokens for other systems, and bulk FHIR exports.

A token is shown once when it is made and stored only as its SHA-256 digest: it is 32 random
bytes, so a slow password hash would add nothing but latency to every API call. A token acts as
one clinic member (a person, or a *system client*: an account that cannot sign in, made for
another system) and can do at most what its scope allows *and* the member's role allows.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Scope(models.TextChoices):
    READ = "read", "Read"
    WRITE = "write", "Read and write"


class SystemClient(models.Model):
    """Another system (a hospital, a registry, a payer) given its own member account and tokens."""

    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.PROTECT, related_name="+")
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="system_client")
    name = models.CharField(max_length=120)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["clinic", "name"], name="system_client_unique_clinic_name")]

    def __str__(self) -> str:
        return self.name


class ApiToken(models.Model):
    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.PROTECT, related_name="+")
    membership = models.ForeignKey("clinics.Membership", on_delete=models.PROTECT, related_name="+")
    label = models.CharField(max_length=120)
    scope = models.CharField(max_length=8, choices=Scope.choices)
    # The first characters after the "pal_" marker, shown in lists so a person can tell tokens apart.
    prefix = models.CharField(max_length=12)
    digest = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    # Refreshed at most once a minute (the audit trail has every use).
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["clinic", "created_at"], name="apitoken_clinic_created")]

    def __str__(self) -> str:
        return f"{self.label} (pal_{self.prefix}…)"


class ExportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class BulkExport(models.Model):
    """One FHIR Bulk Data ``$export`` request: kicked off, run by the worker, its files kept until they expire."""

    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.PROTECT, related_name="+")
    # Who asked: the token (downloads need the same one) or, for a signed-in member, the membership.
    token = models.ForeignKey(ApiToken, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    membership = models.ForeignKey("clinics.Membership", on_delete=models.PROTECT, related_name="+")
    level = models.CharField(max_length=8)  # system, patient, group
    group = models.CharField(max_length=32, blank=True)
    types = models.JSONField(default=list)
    since = models.DateTimeField(null=True, blank=True)
    request_url = models.TextField()
    status = models.CharField(max_length=10, choices=ExportStatus.choices, default=ExportStatus.QUEUED)
    error = models.TextField(blank=True)
    progress = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # The transaction time the manifest reports: nothing changed after it is promised in the files.
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["clinic", "created_at"], name="bulkexport_clinic_created"),
            models.Index(fields=["status", "expires_at"], name="bulkexport_status_expires"),
        ]

    def __str__(self) -> str:
        return f"export {self.pk} ({self.level}, {self.status})"


class ExportFile(models.Model):
    """One NDJSON file of an export: one resource type (split past ``PALPATE_FHIR_EXPORT_FILE_LINES``)."""

    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.PROTECT, related_name="+")
    export = models.ForeignKey(BulkExport, on_delete=models.CASCADE, related_name="files")
    resource_type = models.CharField(max_length=40)
    part = models.PositiveIntegerField(default=1)
    count = models.PositiveIntegerField(default=0)
    size = models.PositiveBigIntegerField(default=0)
    # The patients whose data the file holds: a download is audited naming them, as a chart read is.
    patient_ids = models.JSONField(default=list)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["export", "resource_type", "part"], name="exportfile_unique_part")]

    def __str__(self) -> str:
        return f"{self.resource_type}-{self.part}.ndjson"

    @property
    def filename(self) -> str:
        return f"{self.resource_type}-{self.part}.ndjson"
