"""Questionnaires at home: which are open for a patient, and the email with the link to each round."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from palpate.audit.services import record_event
from palpate.core import measures
from palpate.portal import emails
from palpate.portal.checkins import address_of
from palpate.portal.clinic_settings import settings_for
from palpate.portal.models import LinkPurpose, QuestionnaireAssignment
from palpate.portal.tokens import link_url, new_link


def open_for(patient_id: int, clinic_id: int, today: dt.date) -> list[QuestionnaireAssignment]:
    return list(QuestionnaireAssignment.objects.filter(clinic_id=clinic_id, patient_id=patient_id,
                                                       stopped_at__isnull=True, open_from__lte=today)
                .order_by("due_on", "id"))


def due_assignment_ids(today: dt.date, limit: int = 200) -> list[int]:
    """Open rounds whose link was not sent yet (once per round)."""
    return list(QuestionnaireAssignment.objects.filter(stopped_at__isnull=True, open_from__lte=today)
                .filter(Q(last_sent_on__isnull=True) | Q(last_sent_on__lt=F("open_from")))
                .values_list("pk", flat=True)[:limit])


def title(code: str) -> str:
    inst = measures.instrument(code)
    return f"{inst.name} ({inst.abbreviation})"


def send_open(assignment_id: int) -> bool:
    """Email the link of an open round once (claimed by setting ``last_sent_on``); True if sent."""
    today = timezone.localdate()
    with transaction.atomic():
        assignment = (QuestionnaireAssignment.objects.select_for_update(no_key=True)
                      .select_related("patient", "clinic").filter(pk=assignment_id).first())
        if assignment is None or assignment.stopped_at or assignment.open_from is None or assignment.open_from > today:
            return False
        if assignment.last_sent_on is not None and assignment.last_sent_on >= assignment.open_from:
            return False
        to = address_of(assignment.patient)
        if not to:
            return False
        portal = settings_for(assignment.clinic)
        link, token = new_link(clinic=assignment.clinic, patient=assignment.patient,
                               purpose=LinkPurpose.QUESTIONNAIRE, valid_days=portal.link_valid_days,
                               target_id=assignment.pk)
        assignment.last_sent_on = today
        assignment.save(update_fields=["last_sent_on"])
        record_event(actor=None, clinic=assignment.clinic, action="portal.questionnaire_send",
                     patient_id=assignment.patient_id, obj=assignment,
                     new={"link": link.pk, "instrument": assignment.instrument})
        emails.questionnaire(to, assignment.patient, assignment.clinic, title(assignment.instrument),
                             assignment.due_on, link_url(LinkPurpose.QUESTIONNAIRE, token), link.expires_at)
    return True
