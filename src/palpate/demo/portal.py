"""Demo patient side: the patients with a history get a portal sign-in, a clinic phone, an answered
check-in after their last visit and a few days of home-programme log; at Harbor one check-in reports
calf pain with swelling, so a warning sign waits on harbor-pt's Today.

Check-ins, answers, flags and logs go through the portal's and the reported app's services. The
accounts are written with the demo password set (an invitation link would have to be opened by a
person); the password is printed by ``palpate prepare`` with the staff logins.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from palpate.clinics.actor import Actor
from palpate.clinics.models import Clinic
from palpate.lib.models_common import RecordStatus
from palpate.plans.services import current_plan
from palpate.portal import services as portal_services
from palpate.portal.checkins import do_create_check_in
from palpate.portal.models import PortalAccount
from palpate.portal.principal import PatientActing
from palpate.reported.services import CheckInAnswer, LogEntry, do_log_exercises, programme
from palpate.visits.models import Visit

PHONES = {"harbor": "555-0142", "summit": "555-0187"}
# Which of a clinic's patients with a history reports a warning sign (Harbor's second one).
WARNING_AT = {"harbor": 1}
LOG_DAYS = 5


def seed_portal(clinic: Clinic, owner: Actor, password: str, today: dt.date) -> int:
    """The demo's patient side for ``clinic``; the number of portal sign-ins made (0 if already there)."""
    if PortalAccount.objects.filter(clinic=clinic).exists():
        return 0
    portal_services.do_update_settings(owner, {"phone": PHONES.get(clinic.slug, "555-0100")})
    last_visits: dict[int, Visit] = {}
    for visit in (Visit.objects.filter(clinic=clinic, status=RecordStatus.SIGNED)
                  .select_related("patient", "episode", "clinic").order_by("patient_id", "-visit_date", "-id")):
        last_visits.setdefault(visit.patient_id, visit)
    made = 0
    for index, visit in enumerate(last_visits.values()):
        patient = visit.patient
        if not patient.email:
            continue
        with transaction.atomic():
            PortalAccount.objects.create(clinic=clinic, patient=patient, email=patient.email.lower(),
                                         password=make_password(password), invited_at=timezone.now(),
                                         invited_by=owner.user, password_set_at=timezone.now())
            made += 1
            who = PatientActing(patient, clinic, "portal")
            signed = timezone.make_aware(dt.datetime.combine(visit.visit_date, dt.time(17, 0)))
            check_in = do_create_check_in(visit, signed_at=signed)
            if check_in is not None and check_in.status != "not_sent":
                warning = WARNING_AT.get(clinic.slug) == index
                answer = CheckInAnswer(
                    soreness=6 if warning else 2 + index % 2, soreness_hours=30 if warning else 12,
                    relief="some" if warning else "good", programme="some" if warning else "all",
                    warning_signs=({"code": "calf_pain_swelling", "side": "left"},) if warning else (),
                    patient_note="My left calf has been swollen and warm since yesterday." if warning else "")
                portal_services.do_submit_check_in(who, check_in, answer)
            plan = current_plan(visit.episode)
            items = programme(plan)
            for back in range(LOG_DAYS, 0, -1):
                day = today - dt.timedelta(days=back)
                if plan is None or not items or day < (plan.start_date or day):
                    continue
                entries = [LogEntry(item.exercise, (back + position) % 4 != 0, 2 if (back + position) % 4 else None,
                                    1 + (back + position) % 3 if (back + position) % 4 else None)
                           for position, item in enumerate(items)]
                do_log_exercises(who, plan, day, entries, today)
    return made


def portal_logins() -> dict[str, list[str]]:
    """The demo patients' portal sign-ins, by clinic slug (emails; the password is the demo's)."""
    out: dict[str, list[str]] = {}
    for account in PortalAccount.objects.filter(is_active=True).exclude(password="").select_related("clinic").order_by(
            "clinic__slug", "patient_id"):
        out.setdefault(account.clinic.slug, []).append(account.email)
    return out
