"""What the background worker did, whether it is alive, and which backups exist.

None of these rows holds patient data: task arguments are ids and plain values by convention
(``palpate.ops.queue``), and the summary shown to owners hides every string it was not told is safe.
"""

from __future__ import annotations

from django.db import models


class TaskStatus(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    RETRYING = "retrying", "Failed, will retry"
    FAILED = "failed", "Failed"
    INTERRUPTED = "interrupted", "Interrupted, queued again"


class TaskRun(models.Model):
    """One task's outcome: one row per task id, updated as it runs, retries and ends."""

    task_id = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=120)
    periodic = models.BooleanField(default=False)
    args_summary = models.CharField(max_length=200, blank=True)
    # The arguments themselves (ids and plain values), kept so that a task whose worker died can
    # be queued again with exactly what it was given.
    payload = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=TaskStatus.choices)
    attempts = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    worker = models.CharField(max_length=120, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["name", "-started_at"], name="ops_taskrun_name_started"),
            models.Index(fields=["status", "-started_at"], name="ops_taskrun_status_started"),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.status}"

    @property
    def title(self) -> str:
        return task_title(self.name)


class WorkerHeartbeat(models.Model):
    """A running worker process says it is alive every ``HEARTBEAT_SECONDS`` (``/readyz`` reads it)."""

    worker = models.CharField(max_length=120, unique=True)
    started_at = models.DateTimeField()
    beat_at = models.DateTimeField()
    stopped_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.worker} at {self.beat_at}"


class Backup(models.Model):
    """An archive ``palpate backup`` (or the schedule) wrote; the file is the backup, this the record of it."""

    created_at = models.DateTimeField()
    # The scheduled slot it was made for (``YYYY-mm-ddTHH:MM``); makes the scheduled task idempotent.
    slot = models.CharField(max_length=32, blank=True, db_index=True)
    path = models.CharField(max_length=500)
    size = models.PositiveBigIntegerField(default=0)
    sha256 = models.CharField(max_length=64)
    encrypted = models.BooleanField(default=False)
    database = models.CharField(max_length=16)
    duration_ms = models.PositiveIntegerField(default=0)
    pruned = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.path


def task_title(name: str) -> str:
    """A task's name as the health page shows it: "Scheduled backup", not ``scheduled_backup``."""
    return name.rsplit(".", 1)[-1].replace("_", " ").capitalize()
