"""Every write on the patient side: ``check_*`` validates, ``do_*`` changes and audits in one transaction.

Staff writes (invite a patient, assign a questionnaire, acknowledge a flag, the clinic's settings)
take the member acting (``palpate.clinics.actor.Actor``); patient writes take the patient acting
(``palpate.portal.principal.PatientActing``), so the audit trail names the patient, never a member.
Emails that carry a link are sent once the transaction commits, from the process that made the
link: its token is never stored, not even in the worker's queue.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from palpate.audit.services import record_event
from palpate.clinics.actor import Actor
from palpate.clinics.roles import CLINIC_MANAGE, CLINICAL_WRITE, PATIENT_WRITE
from palpate.core import measures
from palpate.core.errors import InputError
from palpate.outcomes.models import OutcomeMeasurement
from palpate.outcomes.services import do_record_patient_report
from palpate.patients.models import Episode, EpisodeStatus, Patient
from palpate.portal import emails
from palpate.portal.clinic_settings import settings_for
from palpate.portal.models import (
    AccessLink,
    LinkPurpose,
    PortalAccount,
    PortalSettings,
    QuestionnaireAssignment,
    SignInThrottle,
    WarningFlag,
)
from palpate.portal.principal import PatientActing
from palpate.portal.tokens import link_url, new_link, use_link
from palpate.reported.models import CheckIn
from palpate.reported.services import CheckInAnswer, do_answer_check_in

log = logging.getLogger("palpate.portal")

ACKNOWLEDGEMENT_MIN_CHARS = 5
REPEAT_DAYS_MAX = 90
# A patient without a password yet is checked against this hash, so a sign-in takes as long
# whether or not the account exists (no timing tells which emails have accounts).
_DUMMY_HASH: str | None = None


class LinkUsed(Exception):
    """The one-off link was used (or expired) between opening it and submitting."""


def _dummy_hash() -> str:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = make_password("palpate-no-such-account")
    return _DUMMY_HASH


# -- invitations and sign-in -------------------------------------------------------------------------


def check_invite(actor: Actor, patient: Patient, email: str) -> str:
    if not actor.can(PATIENT_WRITE):
        raise PermissionDenied("Your role in this clinic cannot give patients access.")
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise InputError("invalid", "Enter the patient's email address, like name@example.org.", "email") from None
    taken = (PortalAccount.objects.filter(clinic_id=patient.clinic_id, email=email)
             .exclude(patient_id=patient.pk).exists())
    if taken:
        raise InputError("taken", "Another patient of this clinic already signs in with this email. Each patient "
                                  "needs their own email address.", "email")
    return email


def do_invite(actor: Actor, patient: Patient, email: str) -> PortalAccount:
    """Give the patient access (or send a new invitation): an email with a link to set a password."""
    email = check_invite(actor, patient, email)
    portal = settings_for(actor.clinic)
    now = timezone.now()
    with transaction.atomic():
        account, created = PortalAccount.objects.select_for_update(no_key=True).get_or_create(
            patient=patient, defaults={"clinic": actor.clinic, "email": email, "invited_by": actor.user,
                                       "invited_at": now})
        if not created:
            account.email, account.invited_by, account.invited_at, account.is_active = email, actor.user, now, True
            account.save(update_fields=["email", "invited_by", "invited_at", "is_active"])
        # Earlier invitations stop working: only the newest link sets the password.
        AccessLink.objects.filter(clinic=actor.clinic, patient=patient, purpose=LinkPurpose.INVITE,
                                  used_at__isnull=True).update(expires_at=now)
        link, token = new_link(clinic=actor.clinic, patient=patient, purpose=LinkPurpose.INVITE,
                               valid_days=portal.link_valid_days, created_by=actor.user, now=now)
        record_event(actor=actor, action="portal.invite", patient_id=patient.pk, obj=account,
                     new={"email": email, "link": link.pk, "expires_at": link.expires_at, "first": created})
        url = link_url(LinkPurpose.INVITE, token)
        transaction.on_commit(lambda: emails.invitation(account, url, link.expires_at))
    return account


def do_revoke(actor: Actor, account: PortalAccount) -> None:
    if not actor.can(PATIENT_WRITE):
        raise PermissionDenied("Your role in this clinic cannot change patients' access.")
    with transaction.atomic():
        PortalAccount.objects.filter(pk=account.pk, clinic=actor.clinic).update(is_active=False)
        AccessLink.objects.filter(clinic=actor.clinic, patient_id=account.patient_id, used_at__isnull=True,
                                  purpose=LinkPurpose.INVITE).update(expires_at=timezone.now())
        record_event(actor=actor, action="portal.revoke", patient_id=account.patient_id, obj=account,
                     old={"is_active": True}, new={"is_active": False})


def check_new_password(account: PortalAccount, password: str, again: str) -> str:
    if password != again:
        raise InputError("mismatch", "The two passwords are not the same. Type the same password twice.", "again")
    try:
        validate_password(password)
    except ValidationError as problems:
        raise InputError("weak", " ".join(problems.messages), "password") from None
    return password


def do_set_password(link: AccessLink, account: PortalAccount, password: str, again: str) -> PortalAccount:
    """From the invitation link: set the password, and use the link up (once only)."""
    check_new_password(account, password, again)
    now = timezone.now()
    with transaction.atomic():
        if not use_link(link, now):
            raise LinkUsed
        account.password = make_password(password)
        account.password_set_at = now
        account.save(update_fields=["password", "password_set_at"])
        record_event(actor=PatientActing(account.patient, account.clinic, "link"), action="portal.password_set",
                     clinic=account.clinic, patient_id=account.patient_id, obj=account, new={"link": link.pk})
    return account


class SignInLocked(Exception):
    def __init__(self, until: dt.datetime) -> None:
        super().__init__("locked")
        self.until = until


def _throttle_key(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def authenticate(clinic: Any, email: str, password: str, ip_address: str | None = None) -> PortalAccount | None:
    """The account for this clinic, email and password, or None; ``SignInLocked`` after too many failures.

    The lockout is per clinic and email (``PALPATE_LOGIN_FAILURE_LIMIT`` failures lock it for
    ``PALPATE_LOGIN_COOLOFF_HOURS``, as for staff), counted whether or not the account exists.
    """
    now = timezone.now()
    key = _throttle_key(email)
    with transaction.atomic():
        throttle, _ = SignInThrottle.objects.select_for_update(no_key=True).get_or_create(clinic=clinic, key=key)
        if throttle.locked_until and throttle.locked_until > now:
            raise SignInLocked(throttle.locked_until)
        account = (PortalAccount.objects.select_related("patient", "clinic")
                   .filter(clinic=clinic, email=email.strip().lower(), is_active=True).first())
        good = check_password(password, account.password if account and account.password else _dummy_hash())
        if account is not None and account.password and good:
            throttle.delete()
            PortalAccount.objects.filter(pk=account.pk).update(last_sign_in_at=now)
            record_event(actor=PatientActing(account.patient, clinic, "portal"), action="portal.sign_in",
                         clinic=clinic, patient_id=account.patient_id, obj=account, ip_address=ip_address)
            return account
        throttle.failures += 1
        throttle.last_failure_at = now
        if throttle.failures >= settings.AXES_FAILURE_LIMIT:
            throttle.locked_until = now + dt.timedelta(hours=settings.AXES_COOLOFF_TIME)
            throttle.failures = 0
        throttle.save()
        record_event(actor=None, clinic=clinic, action="portal.sign_in_failed",
                     patient_id=account.patient_id if account else None,
                     new={"locked": throttle.locked_until is not None and throttle.locked_until > now},
                     ip_address=ip_address)
    if throttle.locked_until and throttle.locked_until > now:
        raise SignInLocked(throttle.locked_until)
    return None


def do_set_reminder(reporter: PatientActing, account: PortalAccount, enabled: bool, hour: int) -> None:
    if not 0 <= hour <= 23:
        raise InputError("out_of_range", "Choose an hour of the day.", "hour")
    with transaction.atomic():
        PortalAccount.objects.filter(pk=account.pk).update(reminder_enabled=enabled, reminder_hour=hour)
        record_event(actor=reporter, action="portal.reminder", clinic=account.clinic, patient_id=account.patient_id,
                     obj=account, old={"enabled": account.reminder_enabled, "hour": account.reminder_hour},
                     new={"enabled": enabled, "hour": hour})


# -- the check-in ------------------------------------------------------------------------------------


def do_submit_check_in(reporter: PatientActing, check_in: CheckIn, answer: CheckInAnswer,
                       link: AccessLink | None = None) -> tuple[CheckIn, list[WarningFlag]]:
    """Store the patient's answers once; each warning sign raises a flag for the treating therapist."""
    from palpate.core.warning_signs import sign as warning_sign

    now = timezone.now()
    with transaction.atomic():
        if link is not None and not use_link(link, now):
            raise LinkUsed
        saved = do_answer_check_in(reporter, check_in, answer, now)
        flags = []
        for ticked in saved.warning_signs or []:
            sign = warning_sign(ticked["code"])
            flag = WarningFlag.objects.create(
                clinic_id=saved.clinic_id, patient_id=saved.patient_id, episode_id=saved.episode_id, check_in=saved,
                sign=sign.code, side=ticked.get("side", ""), urgency=sign.urgency, therapist_id=saved.therapist_id,
                raised_at=now)
            record_event(actor=reporter, action="portal.flag_raise", clinic=saved.clinic,
                         patient_id=saved.patient_id, obj=flag,
                         new={"sign": sign.code, "side": flag.side, "urgency": sign.urgency,
                              "therapist": saved.therapist_id})
            flags.append(flag)
        if flags:
            ids = [f.pk for f in flags]
            transaction.on_commit(lambda: _notify(ids), robust=True)
    return saved, flags


def _notify(flag_ids: list[int]) -> None:
    from palpate.portal.tasks import notify_therapist

    notify_therapist(flag_ids)


def check_acknowledgement(actor: Actor, flag: WarningFlag, note: str) -> str:
    if not actor.can(CLINICAL_WRITE):
        raise PermissionDenied("Your role in this clinic cannot acknowledge warning signs.")
    note = (note or "").strip()
    if len(note) < ACKNOWLEDGEMENT_MIN_CHARS:
        raise InputError("too_short", "Write what you did about it (for example: called the patient, DVT screen "
                                      "booked for today).", "note")
    return note


def do_acknowledge_flag(actor: Actor, flag: WarningFlag, note: str) -> bool:
    """Acknowledge a flag with a note, audited; False if someone acknowledged it first."""
    note = check_acknowledgement(actor, flag, note)
    now = timezone.now()
    with transaction.atomic():
        done = (WarningFlag.objects.filter(pk=flag.pk, clinic=actor.clinic, acknowledged_at__isnull=True)
                .update(acknowledged_at=now, acknowledged_by=actor.user, acknowledgement=note))
        if done:
            record_event(actor=actor, action="portal.flag_acknowledge", patient_id=flag.patient_id, obj=flag,
                         new={"sign": flag.sign, "note": note})
    return bool(done)


# -- questionnaires at home ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Assignment:
    instrument: str
    due_on: dt.date
    repeat_days: int | None


def check_assignment(actor: Actor, episode: Episode, wanted: Assignment, today: dt.date) -> Assignment:
    if not actor.can(CLINICAL_WRITE):
        raise PermissionDenied("Your role in this clinic cannot assign questionnaires.")
    if episode.status != EpisodeStatus.ACTIVE:
        raise InputError("discharged", "This episode is discharged; reopen it first.", "episode")
    try:
        measures.instrument(wanted.instrument)
    except InputError:
        raise InputError("unknown_code", "Choose one of the questionnaires listed.", "instrument") from None
    if wanted.due_on < today:
        raise InputError("out_of_range", "The date it is wanted by is in the past.", "due_on")
    if wanted.repeat_days is not None and not 1 <= wanted.repeat_days <= REPEAT_DAYS_MAX:
        raise InputError("out_of_range", f"Repeat every 1 to {REPEAT_DAYS_MAX} days, or leave it empty for once.",
                         "repeat_days")
    return wanted


def do_assign(actor: Actor, patient: Patient, episode: Episode, wanted: Assignment) -> QuestionnaireAssignment:
    today = timezone.localdate()
    check_assignment(actor, episode, wanted, today)
    with transaction.atomic():
        assignment = QuestionnaireAssignment.objects.create(
            clinic=actor.clinic, patient=patient, episode=episode, instrument=wanted.instrument,
            assigned_by=actor.user, assigned_at=timezone.now(), open_from=today, due_on=wanted.due_on,
            repeat_days=wanted.repeat_days)
        record_event(actor=actor, action="portal.assign", patient_id=patient.pk, obj=assignment,
                     new={"instrument": wanted.instrument, "due_on": wanted.due_on, "repeat_days": wanted.repeat_days})
        pk = assignment.pk
        transaction.on_commit(lambda: _send_assignment(pk), robust=True)
    return assignment


def _send_assignment(pk: int) -> None:
    from palpate.portal.tasks import send_questionnaire

    send_questionnaire(pk)


def do_stop_assignment(actor: Actor, assignment: QuestionnaireAssignment) -> None:
    if not actor.can(CLINICAL_WRITE):
        raise PermissionDenied("Your role in this clinic cannot change questionnaires.")
    with transaction.atomic():
        QuestionnaireAssignment.objects.filter(pk=assignment.pk, clinic=actor.clinic).update(stopped_at=timezone.now())
        AccessLink.objects.filter(clinic=actor.clinic, purpose=LinkPurpose.QUESTIONNAIRE, target_id=assignment.pk,
                                  used_at__isnull=True).update(expires_at=timezone.now())
        record_event(actor=actor, action="portal.assign_stop", patient_id=assignment.patient_id, obj=assignment,
                     new={"instrument": assignment.instrument})


def is_open_for(assignment: QuestionnaireAssignment, today: dt.date) -> bool:
    return assignment.is_open and assignment.open_from is not None and assignment.open_from <= today


def do_submit_questionnaire(reporter: PatientActing, assignment: QuestionnaireAssignment, answers: Any,
                            activities: Sequence[str] = (), link: AccessLink | None = None) -> OutcomeMeasurement:
    """Score and store what the patient answered (patient-reported), and open the next round or finish."""
    today = timezone.localdate()
    with transaction.atomic():
        locked = QuestionnaireAssignment.objects.select_for_update(no_key=True).get(pk=assignment.pk,
                                                                                   clinic_id=assignment.clinic_id)
        if not is_open_for(locked, today) or (link is not None and not use_link(link)):
            raise LinkUsed
        episode = Episode.objects.get(pk=locked.episode_id, clinic_id=locked.clinic_id)
        measurement = do_record_patient_report(reporter, episode, instrument=locked.instrument, answers=answers,
                                               taken_on=today, assigned_by=locked.assigned_by,
                                               activities=activities)
        locked.last_completed_on = today
        if locked.repeat_days:
            locked.open_from = locked.due_on = today + dt.timedelta(days=locked.repeat_days)
        else:
            locked.open_from = None
        locked.save(update_fields=["last_completed_on", "open_from", "due_on"])
        record_event(actor=reporter, action="portal.questionnaire_done", clinic=reporter.clinic,
                     patient_id=locked.patient_id, obj=locked,
                     new={"measurement": measurement.pk, "next_open": locked.open_from})
    return measurement


# -- the clinic's settings ------------------------------------------------------------------------------


def do_update_settings(actor: Actor, values: dict[str, Any]) -> PortalSettings:
    if not actor.can(CLINIC_MANAGE):
        raise PermissionDenied("Only a clinic owner can change the patient portal settings.")
    with transaction.atomic():
        row = PortalSettings.objects.select_for_update(no_key=True).filter(clinic_id=actor.clinic.pk).first()
        before = {k: getattr(row, k) for k in values} if row else {}
        row = row or PortalSettings(clinic_id=actor.clinic.pk)
        for key, value in values.items():
            setattr(row, key, value)
        row.full_clean()
        try:
            row.save()
        except IntegrityError:  # created by another owner a moment ago: theirs is replaced by this save
            row = PortalSettings.objects.get(clinic_id=actor.clinic.pk)
            for key, value in values.items():
                setattr(row, key, value)
            row.save()
        record_event(actor=actor, action="portal.settings", old=before, new=values)
    return row
