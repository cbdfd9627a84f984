"""The check-in after a signed visit: made when the note is signed, sent by the worker when due.

``schedule_after_signing`` is the visits app's signing hook (``palpate.visits.hooks``): it only
queues the task once the signature commits. The worker then makes the check-in
(:func:`do_create_check_in`: idempotent, one per visit) due ``check_in_delay_hours`` after the
signature, and sends it when due (:func:`send_due`, one worker claims it with a conditional update).
A sweep every few minutes (``palpate.portal.tasks.portal_sweep``) makes any check-in whose task was
lost and sends every one that is due.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from palpate.audit.services import record_event
from palpate.core.warning_signs import signs_to_ask
from palpate.evaluations.services import latest_evaluation
from palpate.lib.models_common import RecordStatus
from palpate.portal import emails
from palpate.portal.clinic_settings import settings_for
from palpate.portal.models import LinkPurpose, PortalAccount
from palpate.portal.tokens import link_url, new_link
from palpate.reported.models import CheckIn, CheckInStatus
from palpate.visits.models import Visit

log = logging.getLogger("palpate.portal")

# A check-in asks about the 24-48 hours after the session: a note signed later than this after
# the visit day sends none (the answers would no longer be about that session).
SIGNED_WITHIN_DAYS = 2
# A claim older than this is from a worker that died while sending: another may take it.
CLAIM_STALE = dt.timedelta(minutes=15)


def schedule_after_signing(actor: object, visit: Visit) -> None:
    """The signing hook: queue the check-in's creation once the signature commits (never raises).

    A note signed more than ``SIGNED_WITHIN_DAYS`` after its visit gets no check-in, so nothing is
    queued for it (a clinic entering last week's notes, or the demo writing its history, queues
    no work for the worker to refuse)."""
    if (timezone.localdate() - visit.visit_date).days > SIGNED_WITHIN_DAYS:
        return
    pk = visit.pk
    transaction.on_commit(lambda: _queue(pk), robust=True)


def _queue(visit_id: int) -> None:
    from palpate.portal.tasks import create_check_in

    create_check_in(visit_id)


def address_of(patient: Any) -> str:
    account = PortalAccount.objects.filter(patient=patient, is_active=True).only("email").first()
    return account.email if account is not None else (patient.email or "")


def do_create_check_in(visit: Visit, now: dt.datetime | None = None,
                       signed_at: dt.datetime | None = None) -> CheckIn | None:
    """The check-in after ``visit`` (made once; None when the clinic sends none).

    ``signed_at`` stands for the note's signing time (the demo writes a history of past visits now).
    """
    now = now or timezone.now()
    existing = CheckIn.objects.filter(clinic_id=visit.clinic_id, visit_id=visit.pk).first()
    if existing is not None or visit.status != RecordStatus.SIGNED or visit.signed_at is None:
        return existing
    portal = settings_for(visit.clinic)
    if not portal.check_ins:
        return None
    signed_at = signed_at or visit.signed_at
    status, reason = CheckInStatus.SCHEDULED, ""
    if (timezone.localdate(signed_at) - visit.visit_date).days > SIGNED_WITHIN_DAYS:
        status, reason = CheckInStatus.NOT_SENT, f"the note was signed more than {SIGNED_WITHIN_DAYS} days after the visit"
    elif not address_of(visit.patient):
        status, reason = CheckInStatus.NOT_SENT, "the patient has no email address"
    evaluation = latest_evaluation(visit.episode)
    findings = {f.get("code") for f in [*(visit.findings or []), *(getattr(evaluation, "findings", None) or [])]}
    try:
        with transaction.atomic():
            check_in = CheckIn.objects.create(
                clinic_id=visit.clinic_id, patient_id=visit.patient_id, episode_id=visit.episode_id, visit_id=visit.pk,
                visit_date=visit.visit_date, therapist_id=visit.therapist_id, status=status, not_sent_reason=reason,
                due_at=signed_at + dt.timedelta(hours=portal.check_in_delay_hours),
                asked_signs=[s.code for s in signs_to_ask(str(c) for c in findings if c)])
            record_event(actor=None, clinic=visit.clinic, action="checkin.schedule", patient_id=visit.patient_id,
                         obj=check_in, new={"visit_id": visit.pk, "due_at": check_in.due_at, "status": status,
                                            "reason": reason})
    except IntegrityError:  # made by another worker meanwhile
        return CheckIn.objects.get(clinic_id=visit.clinic_id, visit_id=visit.pk)
    return check_in


def send_due(check_in_id: int, now: dt.datetime | None = None) -> bool:
    """Send one check-in if it is due and nobody else is sending it; True if this call sent it."""
    now = now or timezone.now()
    claimed = (CheckIn.objects.filter(pk=check_in_id, status=CheckInStatus.SCHEDULED, due_at__lte=now)
               .filter(_unclaimed(now)).update(claimed_at=now))
    if claimed != 1:
        return False
    check_in = CheckIn.objects.select_related("patient", "clinic").get(pk=check_in_id)
    try:
        to = address_of(check_in.patient)
        if not to:
            CheckIn.objects.filter(pk=check_in.pk).update(status=CheckInStatus.NOT_SENT,
                                                          not_sent_reason="the patient has no email address")
            return False
        portal = settings_for(check_in.clinic)
        with transaction.atomic():
            link, token = new_link(clinic=check_in.clinic, patient=check_in.patient, purpose=LinkPurpose.CHECK_IN,
                                   valid_days=portal.link_valid_days, target_id=check_in.pk, now=now)
            CheckIn.objects.filter(pk=check_in.pk).update(status=CheckInStatus.SENT, sent_at=now)
            record_event(actor=None, clinic=check_in.clinic, action="checkin.send", patient_id=check_in.patient_id,
                         obj=check_in, new={"link": link.pk, "expires_at": link.expires_at})
            url = link_url(LinkPurpose.CHECK_IN, token)
            # Sent inside the transaction: if sending fails, the check-in stays unsent and is retried.
            emails.check_in(to, check_in.patient, check_in.clinic, check_in.visit_date, url, link.expires_at)
    except BaseException:
        CheckIn.objects.filter(pk=check_in.pk, status=CheckInStatus.SCHEDULED).update(claimed_at=None)
        raise
    return True


def _unclaimed(now: dt.datetime) -> Any:
    from django.db.models import Q

    return Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - CLAIM_STALE)


def due_ids(now: dt.datetime, limit: int = 200) -> list[int]:
    return list(CheckIn.objects.filter(status=CheckInStatus.SCHEDULED, due_at__lte=now).filter(_unclaimed(now))
                .order_by("due_at").values_list("pk", flat=True)[:limit])


def missing_visits(now: dt.datetime, limit: int = 200) -> list[int]:
    """Visits signed in the last few days whose check-in was never made (a task lost in the queue)."""
    since = timezone.localdate(now) - dt.timedelta(days=SIGNED_WITHIN_DAYS)
    made = CheckIn.objects.filter(visit_date__gte=since).values("visit_id")
    return list(Visit.objects.filter(status=RecordStatus.SIGNED, visit_date__gte=since, signed_at__lte=now)
                .exclude(pk__in=made).order_by("signed_at").values_list("pk", flat=True)[:limit])
