"""Background work of the interop app: run a bulk export, delete the files of expired ones."""

from __future__ import annotations

import datetime as dt
import logging
import shutil

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from palpate.ops.queue import cron, periodic_task, task

log = logging.getLogger("palpate.worker")


@task(retries=2, retry_delay=30, backoff=2.0)
def run_export(export_id: int) -> None:
    """Write an export's NDJSON files. Idempotent: a run that finds it done does nothing; an
    interrupted run starts the files again from scratch."""
    from palpate.interop.access import SCOPE_ACTIONS, ScopedActor
    from palpate.interop.fhir.bulk import write_export
    from palpate.interop.fhir.context import Context
    from palpate.interop.fhir.resources.base import group_members
    from palpate.interop.models import BulkExport, ExportFile, ExportStatus
    from palpate.interop.services import export_dir

    export = BulkExport.objects.select_related("clinic", "membership__user", "membership__clinic", "token").get(
        pk=export_id)
    if export.status not in (ExportStatus.QUEUED, ExportStatus.RUNNING) or export.deleted_at is not None:
        return
    started = timezone.now()
    BulkExport.objects.filter(pk=export.pk).update(status=ExportStatus.RUNNING, started_at=started, progress="started")
    export.started_at = started
    membership = export.membership
    token = export.token
    if token is not None and token.scope in SCOPE_ACTIONS:
        actor = ScopedActor(user=membership.user, clinic=membership.clinic, membership=membership, token=token)
    else:
        from palpate.clinics.actor import Actor

        actor = Actor.of(membership)
    base = export.request_url.split("/fhir/R4", 1)[0] + "/fhir/R4"
    ctx = Context(actor, base)
    patients = group_members(ctx, export.group).values("pk") if export.level == "group" else None
    folder = export_dir(export)
    shutil.rmtree(folder, ignore_errors=True)

    def progress(text: str) -> None:
        BulkExport.objects.filter(pk=export.pk).update(progress=text[:120])

    try:
        written = write_export(ctx, export, folder, patients, progress)
    except Exception as exc:
        BulkExport.objects.filter(pk=export.pk).update(status=ExportStatus.FAILED, error=f"{type(exc).__name__}",
                                                       finished_at=timezone.now())
        shutil.rmtree(folder, ignore_errors=True)
        raise
    with transaction.atomic():
        locked = BulkExport.objects.select_for_update(no_key=True).get(pk=export.pk)
        if locked.status != ExportStatus.RUNNING:  # cancelled meanwhile
            shutil.rmtree(folder, ignore_errors=True)
            return
        ExportFile.objects.filter(export=locked).delete()
        ExportFile.objects.bulk_create([ExportFile(clinic_id=locked.clinic_id, export=locked, resource_type=f["type"],
                                                   part=f["part"], count=f["count"], size=f["size"],
                                                   patient_ids=f["patients"]) for f in written])
        now = timezone.now()
        locked.status = ExportStatus.DONE
        locked.finished_at = now
        locked.progress = "done"
        locked.expires_at = now + dt.timedelta(hours=settings.PALPATE_FHIR_EXPORT_HOURS)
        locked.save(update_fields=["status", "finished_at", "progress", "expires_at"])
    log.info("export %s written: %s files", export_id, len(written))


@periodic_task(cron("*/15 * * * *"))
def expire_exports() -> None:
    """Every quarter hour: delete the files of exports past their expiry."""
    from palpate.interop.services import do_expire_exports

    do_expire_exports()
