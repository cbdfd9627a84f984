"""The patient side's background work (palpate.ops tasks: idempotent, ids as arguments, outcome recorded).

No task argument is ever a token or an email address: a link is made and emailed inside the one
task run that sends it.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.utils import timezone

from palpate.ops.queue import cron, periodic_task, task

log = logging.getLogger("palpate.portal")


@task(retries=5, retry_delay=60, backoff=2.0)
def create_check_in(visit_id: int) -> None:
    """Make the check-in after a signed visit, and send it at its time (both idempotent)."""
    from palpate.portal.checkins import do_create_check_in
    from palpate.visits.models import Visit

    visit = Visit.objects.select_related("patient", "episode", "clinic").filter(pk=visit_id).first()
    if visit is None:
        return
    check_in = do_create_check_in(visit)
    if check_in is not None and check_in.status == "scheduled":
        delay = max(0.0, (check_in.due_at - timezone.now()).total_seconds())
        pk = check_in.pk
        # Sent at its time by this scheduled task, or by the sweep if the queue lost it.
        transaction.on_commit(lambda: send_check_in.schedule((pk,), delay=delay), robust=True)


@task(retries=5, retry_delay=120, backoff=2.0)
def send_check_in(check_in_id: int) -> None:
    from palpate.portal.checkins import send_due

    send_due(check_in_id)


@task(retries=5, retry_delay=120, backoff=2.0)
def send_questionnaire(assignment_id: int) -> None:
    """Email the link to an open questionnaire, once per round."""
    from palpate.portal.questionnaires import send_open

    send_open(assignment_id)


@task(retries=3, retry_delay=60, backoff=2.0)
def notify_therapist(flag_ids: list[int]) -> None:
    """Email the treating therapist that a warning sign waits on Today (no patient data in the email)."""
    from palpate.portal import emails
    from palpate.portal.models import WarningFlag

    flags = list(WarningFlag.objects.filter(pk__in=flag_ids, acknowledged_at__isnull=True)
                 .select_related("therapist", "clinic"))
    if flags:
        emails.flag_for_therapist(flags[0].therapist, flags[0].clinic, len(flags))


@periodic_task(cron("*/5 * * * *"))
def portal_sweep() -> None:
    """Every 5 minutes: make check-ins whose task was lost, send those due, open questionnaires."""
    from palpate.portal.checkins import do_create_check_in, due_ids, missing_visits, send_due
    from palpate.portal.questionnaires import due_assignment_ids, send_open
    from palpate.visits.models import Visit

    now = timezone.now()
    for visit in Visit.objects.filter(pk__in=missing_visits(now)).select_related("patient", "episode", "clinic"):
        do_create_check_in(visit, now)
    for pk in due_ids(now):
        try:
            send_due(pk, now)
        except Exception:  # one patient's mail server problem must not stop the others
            log.exception("check-in %s could not be sent; the next sweep tries again", pk)
    for pk in due_assignment_ids(timezone.localdate(now)):
        try:
            send_open(pk)
        except Exception:
            log.exception("questionnaire %s could not be sent; the next sweep tries again", pk)


@periodic_task(cron("2 * * * *"))
def programme_reminders() -> None:
    """Every hour: the daily home-exercise reminder for patients who asked for one at this hour and
    have not logged today (at most one a day: ``last_reminded_on`` is claimed before sending)."""
    from palpate.portal import emails
    from palpate.portal.models import PortalAccount
    from palpate.reported.models import ExerciseLog

    now = timezone.localtime()
    today = now.date()
    accounts = (PortalAccount.objects.filter(is_active=True, reminder_enabled=True, reminder_hour=now.hour)
                .exclude(last_reminded_on=today).exclude(password="").select_related("patient", "clinic"))
    for account in accounts:
        if ExerciseLog.objects.filter(clinic_id=account.clinic_id, patient_id=account.patient_id, day=today).exists():
            continue
        claimed = (PortalAccount.objects.filter(pk=account.pk).exclude(last_reminded_on=today)
                   .update(last_reminded_on=today))
        if claimed:
            try:
                emails.reminder(account)
            except Exception:
                PortalAccount.objects.filter(pk=account.pk).update(last_reminded_on=today - dt.timedelta(days=1))
                log.exception("reminder for account %s could not be sent", account.pk)
