"""The worker's own jobs: fold and anchor the audit trail, verify it nightly, scheduled backups, housekeeping."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.utils import timezone

from palpate.ops.queue import cron, periodic_task, task

log = logging.getLogger("palpate.worker")


class AuditChainBroken(RuntimeError):
    pass


@periodic_task(cron("* * * * *"))
def audit_fold_and_anchor() -> None:
    """Every minute: staged reads into the chain, check what is new since the last anchor, anchor the heads."""
    from palpate.audit.services import fold_reads, verify_and_anchor

    fold_reads()
    report = verify_and_anchor(full=False)
    if not report.ok:
        assert report.first_break is not None
        # No anchor is written over a broken chain; the failure shows on the health page.
        raise AuditChainBroken(f"clinic {report.first_break.clinic_id} event {report.first_break.seq}: "
                               f"{report.first_break.problem}")


@periodic_task(cron(settings.PALPATE_AUDIT_FULL_VERIFY_CRON))
def audit_verify_full() -> None:
    """Nightly: re-read every chain from its first event (the minute job only reads what is new)."""
    from palpate.audit.services import verify_chain

    report = verify_chain(full=True)
    if not report.ok:
        assert report.first_break is not None
        raise AuditChainBroken(f"clinic {report.first_break.clinic_id} event {report.first_break.seq}: "
                               f"{report.first_break.problem}")


@task(retries=3, retry_delay=60, backoff=2.0, show=("slot",))
def backup(slot: str) -> None:
    """One backup for ``slot``; running it again for the same slot does nothing (idempotent)."""
    from palpate.ops.backup import backup_now, prune_backups
    from palpate.ops.models import Backup
    from palpate.ops.queue import HUEY

    # One backup at a time, across workers on several machines too (the lock lives in the queue);
    # a second one waiting for it is retried later and then finds its slot done.
    with HUEY.lock_task("palpate-backup"):
        if Backup.objects.filter(slot=slot).exists():
            log.info("backup for slot %s already made", slot)
            return
        backup_now(slot=slot, trigger="owner request" if slot.startswith("manual-") else "schedule")
        prune_backups()


@periodic_task(cron(settings.PALPATE_BACKUP_CRON))
def scheduled_backup() -> None:
    """On the backup schedule: queue the backup of this minute's slot (retried on its own)."""
    if not settings.PALPATE_BACKUP_ENABLED:
        return
    slot = timezone.now().replace(second=0, microsecond=0).strftime("%Y-%m-%dT%H:%M")
    backup(slot)


@periodic_task(cron("43 4 * * *"))
def housekeeping() -> None:
    """Forget finished task outcomes and stopped workers after a while; the health page shows recent ones."""
    from palpate.ops.models import TaskRun, TaskStatus, WorkerHeartbeat

    cutoff = timezone.now() - dt.timedelta(days=settings.PALPATE_TASK_HISTORY_DAYS)
    TaskRun.objects.filter(started_at__lt=cutoff).exclude(status=TaskStatus.RUNNING).delete()
    WorkerHeartbeat.objects.filter(beat_at__lt=timezone.now() - dt.timedelta(days=1)).delete()
