"""The emails the patient side sends, through Django's email backends (files in the data directory
by default). They say as little as they can: the clinic's name, what to do and the link; never a
diagnosis, a score or what was reported. A link is in exactly one email and nowhere else."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from palpate.portal.clinic_settings import settings_for

log = logging.getLogger("palpate.portal")


def _send(to: str, subject: str, template: str, context: dict[str, Any]) -> None:
    clinic = context["clinic"]
    context = {**context, "portal_settings": settings_for(clinic)}
    body = render_to_string(template, context)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [to])


def invitation(account: Any, url: str, expires_at: dt.datetime) -> None:
    _send(account.email, f"Your sign-in for {account.clinic.name}", "portal/email/invitation.txt",
          {"clinic": account.clinic, "patient": account.patient, "url": url,
           "expires_on": timezone.localtime(expires_at)})


def check_in(to: str, patient: Any, clinic: Any, visit_date: dt.date, url: str, expires_at: dt.datetime) -> None:
    _send(to, f"How are you feeling after your visit? ({clinic.name})", "portal/email/check_in.txt",
          {"clinic": clinic, "patient": patient, "visit_date": visit_date, "url": url,
           "expires_on": timezone.localtime(expires_at)})


def questionnaire(to: str, patient: Any, clinic: Any, title: str, due_on: dt.date | None, url: str,
                  expires_at: dt.datetime) -> None:
    _send(to, f"A short questionnaire from {clinic.name}", "portal/email/questionnaire.txt",
          {"clinic": clinic, "patient": patient, "title": title, "due_on": due_on, "url": url,
           "expires_on": timezone.localtime(expires_at)})


def reminder(account: Any) -> None:
    url = settings.PALPATE_BASE_URL + reverse("portal:exercises")
    _send(account.email, f"Time for your home exercises ({account.clinic.name})", "portal/email/reminder.txt",
          {"clinic": account.clinic, "patient": account.patient, "url": url})


def flag_for_therapist(therapist: Any, clinic: Any, count: int) -> None:
    """Tell the treating therapist to open Palpate: no patient name or sign in the email itself."""
    if not therapist.email:
        log.warning("therapist %s has no email address: the warning-sign flag waits on Today only", therapist.pk)
        return
    url = settings.PALPATE_BASE_URL + reverse("today")
    _send(therapist.email, f"Urgent: a patient reported a warning sign ({clinic.name})",
          "portal/email/flag_for_therapist.txt", {"clinic": clinic, "count": count, "url": url,
                                                  "therapist": therapist})
