"""The patient side (``/portal/``): phone-first pages a patient reaches by signing in or by a one-off link.

Every view is a :func:`palpate.portal.session.portal_view`. A signed-in patient's records are read
through :func:`mine` and friends, which filter by the account's own patient and clinic: another
patient's record is the portal's "not found" page, however its id was guessed. Every page a
patient opens is audited as a read by the patient; every link refused is audited too.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from palpate.audit.services import record_event, record_read
from palpate.clinics.models import Clinic
from palpate.core import measures
from palpate.core.errors import InputError
from palpate.core.warning_signs import patient_actions
from palpate.core.warning_signs import sign as warning_sign
from palpate.lib.decorators import client_ip
from palpate.lib.models_common import RecordStatus
from palpate.lib.pdf import pdf_response, render_pdf
from palpate.outcomes.services import NotScorable
from palpate.outcomes.wording import clinic_instrument
from palpate.patients.models import Episode, EpisodeStatus
from palpate.plans.documents import handout_context
from palpate.plans.models import PlanOfCare
from palpate.plans.services import pick_current
from palpate.portal import appointments, services
from palpate.portal.clinic_settings import settings_for
from palpate.portal.forms import (
    CheckInForm,
    ExerciseLogForm,
    NewPasswordForm,
    PatientQuestionnaireForm,
    ReminderForm,
    SignInForm,
)
from palpate.portal.models import AccessLink, LinkPurpose, PortalAccount, QuestionnaireAssignment
from palpate.portal.principal import PatientActing
from palpate.portal.progress import lines_for
from palpate.portal.questionnaires import open_for
from palpate.portal.session import PortalRequest, portal_context, portal_view
from palpate.portal.tokens import Opened, open_link
from palpate.reported.models import CheckIn, CheckInStatus
from palpate.reported.services import (
    LOG_DAYS_BACK,
    AlreadyAnswered,
    do_log_exercises,
    programme,
    programme_start,
)

# -- reading the patient's own records -------------------------------------------------------------------


def me(request: PortalRequest) -> PatientActing:
    return PatientActing(request.account.patient, request.account.clinic, "portal")


def _read(request: HttpRequest, who: PatientActing, action: str, obj: Any = None, **detail: Any) -> None:
    record_read(who, action, patient_id=who.patient.pk, obj=obj, ip_address=client_ip(request), detail=detail or None)


def current_plans(patient: Any) -> list[PlanOfCare]:
    """The signed plan of care in force for each of the patient's active episodes (one query)."""
    plans = list(PlanOfCare.objects.filter(clinic_id=patient.clinic_id, patient=patient, status=RecordStatus.SIGNED,
                                           superseded_by__isnull=True, episode__status=EpisodeStatus.ACTIVE)
                 .select_related("episode", "clinic").order_by("id"))
    by_episode: dict[int, list[PlanOfCare]] = {}
    for plan in plans:
        by_episode.setdefault(plan.episode_id, []).append(plan)
    return [p for p in (pick_current(group) for group in by_episode.values()) if p is not None]


def open_check_ins(patient: Any) -> list[CheckIn]:
    return list(CheckIn.objects.filter(clinic_id=patient.clinic_id, patient=patient, status=CheckInStatus.SENT)
                .order_by("-visit_date"))


def _page(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200,
          clinic: Any = None) -> HttpResponse:
    return render(request, template, {**portal_context(request, clinic), **context}, status=status)


@portal_view(signed_in=False)
def not_found(request: PortalRequest) -> HttpResponse:
    raise Http404("No such page")


# -- signing in ------------------------------------------------------------------------------------------


def _clinic(slug: str) -> Clinic:
    try:
        return Clinic.objects.get(slug=slug)
    except Clinic.DoesNotExist:
        raise Http404("No such clinic") from None


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target.startswith("/portal/") and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return reverse("portal:home")


@portal_view(signed_in=False)
@require_http_methods(["GET", "HEAD", "POST"])
def sign_in(request: PortalRequest, slug: str) -> HttpResponse:
    clinic = _clinic(slug)
    if request.account is not None and request.account.clinic_id == clinic.pk:
        return redirect(_safe_next(request))
    form = SignInForm(request.POST or None)
    problem = ""
    if request.method == "POST" and form.is_valid():
        try:
            account = services.authenticate(clinic, form.cleaned_data["email"], form.cleaned_data["password"],
                                            client_ip(request))
        except services.SignInLocked as locked:
            problem = (f"Too many wrong passwords. For your safety, signing in is paused until "
                       f"{timezone.localtime(locked.until):%H:%M}. If you forgot your password, call the clinic "
                       "and ask for a new invitation.")
        else:
            if account is not None:
                request.portal.sign_in(account)
                return redirect(_safe_next(request))
            problem = "That email address and password do not match. Check them and try again."
    if request.GET.get("timeout"):
        messages.info(request, "You were signed out after a while without activity. Please sign in again.")
    return _page(request, "portal/sign_in.html", {"form": form, "problem": problem, "next": _safe_next(request)},
                 clinic=clinic)


@portal_view(signed_in=False)
@require_POST
def sign_out(request: PortalRequest) -> HttpResponse:
    slug = request.portal.clinic_slug
    account = request.account
    if account is not None:
        with transaction.atomic():
            record_event(actor=PatientActing(account.patient, account.clinic, "portal"), action="portal.sign_out",
                         clinic=account.clinic, patient_id=account.patient_id, obj=account,
                         ip_address=client_ip(request))
    request.portal.sign_out()
    if slug:
        return redirect(reverse("portal:sign_in", args=[slug]) + "?signed_out=1")
    return _page(request, "portal/find_clinic.html", {})


# -- one-off links ---------------------------------------------------------------------------------------

LINK_PROBLEMS = {
    "altered": ("This link does not work", "The link is not complete or was changed. Open it again from the "
                "email, or copy the whole link into your browser.", 400),
    "unknown": ("This link does not work", "We do not know this link. Open it again from the email, or ask the "
                "clinic to send a new one.", 404),
    "expired": ("This link has expired", "Links work for a few days only, to keep your information safe. Call "
                "the clinic and ask for a new one.", 410),
    "used": ("This link has been used", "Each link works once, and this one has been used already. If that was "
             "not you, call the clinic.", 410),
}


def link_problem(request: HttpRequest, opened: Opened, purpose: str) -> HttpResponse:
    title, text, status = LINK_PROBLEMS[opened.status]
    link = opened.link
    if link is not None:
        with transaction.atomic():
            record_event(actor=None, clinic=link.clinic, action="portal.link_refused", patient_id=link.patient_id,
                         obj=link, new={"purpose": purpose, "why": opened.status}, ip_address=client_ip(request))
    clinic = link.clinic if link is not None else None
    return _page(request, "portal/link_problem.html", {"title": title, "text": text}, status=status, clinic=clinic)


def _opened(request: HttpRequest, purpose: str, token: str) -> Opened:
    opened = open_link(purpose, token)
    if opened.ok:
        assert opened.link is not None
        who = PatientActing(opened.link.patient, opened.link.clinic, "link")
        _read(request, who, f"portal.link_open.{purpose}", opened.link)
    return opened


@portal_view(signed_in=False)
@require_http_methods(["GET", "HEAD", "POST"])
def welcome(request: PortalRequest, token: str) -> HttpResponse:
    """The invitation: choose a password (the link works once), then the patient is signed in."""
    opened = _opened(request, LinkPurpose.INVITE, token)
    if not opened.ok:
        return link_problem(request, opened, LinkPurpose.INVITE)
    link = opened.link
    assert link is not None
    account = PortalAccount.objects.select_related("patient", "clinic").filter(
        clinic=link.clinic, patient=link.patient, is_active=True).first()
    if account is None:
        return link_problem(request, Opened("expired", link), LinkPurpose.INVITE)
    form = NewPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.do_set_password(link, account, form.cleaned_data["password"], form.cleaned_data["again"])
        except InputError as problem:
            form.add_error(problem.path if problem.path in form.fields else None, problem.message)
        except services.LinkUsed:
            return link_problem(request, Opened("used", link), LinkPurpose.INVITE)
        else:
            account.refresh_from_db()
            request.portal.sign_in(account)
            messages.success(request, "Your password is set and you are signed in.")
            return redirect("portal:home")
    return _page(request, "portal/welcome.html", {"form": form, "patient": link.patient}, clinic=link.clinic)


@portal_view(signed_in=False)
@require_http_methods(["GET", "HEAD", "POST"])
def check_in_link(request: PortalRequest, token: str) -> HttpResponse:
    opened = _opened(request, LinkPurpose.CHECK_IN, token)
    if not opened.ok:
        return link_problem(request, opened, LinkPurpose.CHECK_IN)
    link = opened.link
    assert link is not None
    check_in = CheckIn.objects.filter(clinic_id=link.clinic_id, patient_id=link.patient_id, pk=link.target_id).first()
    if check_in is None:
        raise Http404("No such check-in")
    return _check_in(request, PatientActing(link.patient, link.clinic, "link"), check_in, link)


@portal_view()
@require_http_methods(["GET", "HEAD", "POST"])
def check_in(request: PortalRequest, pk: int) -> HttpResponse:
    patient = request.account.patient
    found = CheckIn.objects.filter(clinic_id=patient.clinic_id, patient=patient, pk=pk).first()
    if found is None:
        raise Http404("No such check-in")
    return _check_in(request, me(request), found, None)


def _check_in(request: HttpRequest, who: PatientActing, check_in: CheckIn, link: AccessLink | None) -> HttpResponse:
    signs = tuple(warning_sign(code) for code in check_in.asked_signs or [])
    if check_in.is_answered:
        _read(request, who, "portal.check_in_view", check_in)
        return _page(request, "portal/check_in_done.html", {"check_in": check_in, "actions": [], "again": True},
                     clinic=who.clinic)
    form = CheckInForm(request.POST or None, signs=signs)
    if request.method == "POST" and form.is_valid():
        try:
            saved, flags = services.do_submit_check_in(who, check_in, form.answer(), link)
        except InputError as problem:
            form.add_error(problem.path if problem.path in form.fields else None, problem.message)
        except (AlreadyAnswered, services.LinkUsed):
            return link_problem(request, Opened("used", link), LinkPurpose.CHECK_IN) if link else redirect(
                "portal:check_in", check_in.pk)
        else:
            portal = settings_for(who.clinic)
            codes = [w["code"] for w in saved.warning_signs or []]
            actions = [a.filled(portal.phone or "the clinic", portal.emergency_number) for a in patient_actions(codes)]
            extras = [warning_sign(c).patient_extra.replace("{emergency_number}", portal.emergency_number)
                      .replace("{clinic_phone}", portal.phone or "the clinic") for c in codes
                      if warning_sign(c).patient_extra]
            return _page(request, "portal/check_in_done.html",
                         {"check_in": saved, "actions": actions, "extras": extras, "flagged": bool(flags)},
                         clinic=who.clinic)
    _read(request, who, "portal.check_in_view", check_in)
    return _page(request, "portal/check_in.html", {"form": form, "check_in": check_in, "signs": signs},
                 clinic=who.clinic)


# -- the signed-in pages ---------------------------------------------------------------------------------


@portal_view()
@require_safe
def home(request: PortalRequest) -> HttpResponse:
    who = me(request)
    patient = who.patient
    today = timezone.localdate()
    plans = current_plans(patient)
    exercises = [item for plan in plans for item in programme(plan)]
    _read(request, who, "portal.home")
    return _page(request, "portal/home.html", {
        "patient": patient, "check_ins": open_check_ins(patient),
        "questionnaires": [(a, measures.instrument(a.instrument)) for a in open_for(patient.pk, patient.clinic_id, today)],
        "exercises": exercises, "upcoming": appointments.upcoming(patient, today),
        "progress": [line for episode in _episodes(patient) for line in lines_for(episode)][:3],
    })


def _episodes(patient: Any) -> list[Episode]:
    return list(Episode.objects.filter(clinic_id=patient.clinic_id, patient=patient).order_by("-opened_on", "-id"))


@portal_view()
@require_http_methods(["GET", "HEAD", "POST"])
def exercises(request: PortalRequest) -> HttpResponse:
    """The home programme with its plain instructions, and the log of one day (today by default)."""
    who = me(request)
    patient = who.patient
    today = timezone.localdate()
    plans = current_plans(patient)
    items = [item for plan in plans for item in programme(plan)]
    earliest = max([today - dt.timedelta(days=LOG_DAYS_BACK), *(programme_start(p) for p in plans if programme(p))],
                   default=today)
    days = [today - dt.timedelta(days=n) for n in range((today - earliest).days + 1)] if items else []
    try:
        day = dt.date.fromisoformat(request.POST.get("day") or request.GET.get("day") or today.isoformat())
    except ValueError:
        day = today
    if day not in days:
        day = today
    from palpate.reported.models import ExerciseLog

    logged = {(log.plan_id, log.exercise): log for log in ExerciseLog.objects.filter(
        clinic_id=patient.clinic_id, patient=patient, day=day)}
    initial = {}
    for item in items:
        log = logged.get((item.plan_id, item.exercise))
        if log is not None:
            initial.update({f"done_{item.exercise}": "yes" if log.done else "no", f"sets_{item.exercise}": log.sets,
                            f"pain_{item.exercise}": log.pain_during})
    form = ExerciseLogForm(request.POST or None, exercises=items, initial=initial)
    if request.method == "POST" and items and form.is_valid():
        entries = form.entries()
        try:
            for plan in plans:
                mine = [e for e in entries if e.exercise in {i.exercise for i in programme(plan)}]
                if mine:
                    do_log_exercises(who, plan, day, mine, today)
        except InputError as problem:
            form.add_error(None, problem.message)
        else:
            done = sum(1 for e in entries if e.done)
            messages.success(request, f"Saved for {_day_name(day, today)}: {done} of {len(entries)} exercises done. "
                                      "Well done for keeping track.")
            return redirect(f"{reverse('portal:exercises')}?day={day.isoformat()}")
    _read(request, who, "portal.exercises", day=day.isoformat())
    return _page(request, "portal/exercises.html", {
        "form": form, "items": items, "day": day, "day_name": _day_name(day, today),
        "days": [(d, _day_name(d, today)) for d in days], "saved": bool(logged)})


def _day_name(day: dt.date, today: dt.date) -> str:
    if day == today:
        return "today"
    if day == today - dt.timedelta(days=1):
        return "yesterday"
    return f"{day:%A %d %B}"


@portal_view()
@require_http_methods(["GET", "HEAD", "POST"])
def reminders(request: PortalRequest) -> HttpResponse:
    who = me(request)
    account = request.account
    form = ReminderForm(request.POST or None, initial={"enabled": account.reminder_enabled,
                                                        "hour": account.reminder_hour})
    if request.method == "POST" and form.is_valid():
        services.do_set_reminder(who, account, form.cleaned_data["enabled"], form.cleaned_data["hour"])
        messages.success(request, "Reminder saved." if form.cleaned_data["enabled"] else "Reminders are off.")
        return redirect("portal:exercises")
    _read(request, who, "portal.reminders")
    return _page(request, "portal/reminders.html", {"form": form})


def _assignment(patient: Any, pk: object) -> QuestionnaireAssignment:
    found = (QuestionnaireAssignment.objects.filter(clinic_id=patient.clinic_id, patient=patient, pk=int(str(pk)))
             .select_related("episode", "assigned_by").first())
    if found is None:
        raise Http404("No such questionnaire")
    return found


@portal_view()
@require_http_methods(["GET", "HEAD", "POST"])
def questionnaire(request: PortalRequest, pk: int) -> HttpResponse:
    return _questionnaire(request, me(request), _assignment(request.account.patient, pk), None)


@portal_view(signed_in=False)
@require_http_methods(["GET", "HEAD", "POST"])
def questionnaire_link(request: PortalRequest, token: str) -> HttpResponse:
    opened = _opened(request, LinkPurpose.QUESTIONNAIRE, token)
    if not opened.ok:
        return link_problem(request, opened, LinkPurpose.QUESTIONNAIRE)
    link = opened.link
    assert link is not None
    return _questionnaire(request, PatientActing(link.patient, link.clinic, "link"),
                          _assignment(link.patient, link.target_id or 0), link)


def _questionnaire(request: HttpRequest, who: PatientActing, assignment: QuestionnaireAssignment,
                   link: AccessLink | None) -> HttpResponse:
    today = timezone.localdate()
    if not services.is_open_for(assignment, today):
        _read(request, who, "portal.questionnaire_view", assignment)
        return _page(request, "portal/questionnaire_closed.html", {"assignment": assignment}, clinic=who.clinic)
    shown = clinic_instrument(who.clinic.pk, assignment.instrument)
    form = PatientQuestionnaireForm(request.POST or None, instrument=shown.instrument, episode=assignment.episode)
    if request.method == "POST" and form.is_valid():
        try:
            services.do_submit_questionnaire(who, assignment, form.answers, form.activities, link)
        except NotScorable:
            form.add_error(None, "Please answer more of the questions, so that your answers can be scored.")
        except InputError as problem:
            form.add_error(None, problem.message)
        except services.LinkUsed:
            return link_problem(request, Opened("used", link), LinkPurpose.QUESTIONNAIRE) if link else redirect(
                "portal:home")
        else:
            return _page(request, "portal/questionnaire_done.html", {"instrument": shown.instrument},
                         clinic=who.clinic)
    _read(request, who, "portal.questionnaire_view", assignment)
    return _page(request, "portal/questionnaire.html", {"form": form, "instrument": shown.instrument,
                                                        "assignment": assignment}, clinic=who.clinic)


@portal_view()
@require_safe
def progress(request: PortalRequest) -> HttpResponse:
    who = me(request)
    episodes = [(episode, lines_for(episode)) for episode in _episodes(who.patient)]
    _read(request, who, "portal.progress")
    return _page(request, "portal/progress.html", {"episodes": [(e, lines) for e, lines in episodes if lines]})


@portal_view()
@require_safe
def handouts(request: PortalRequest) -> HttpResponse:
    who = me(request)
    plans = [p for p in current_plans(who.patient) if programme(p)]
    _read(request, who, "portal.handouts")
    return _page(request, "portal/handouts.html", {"plans": plans})


@portal_view()
@require_safe
def handout_pdf(request: PortalRequest, plan_pk: int) -> HttpResponse:
    """The same printable handout the therapist prints (plans/handout_pdf.html)."""
    who = me(request)
    plan = next((p for p in current_plans(who.patient) if p.pk == plan_pk), None)
    if plan is None:
        raise Http404("No such handout")
    pdf = render_pdf("plans/handout_pdf.html", {"patient": who.patient, "plan": plan, "clinic": who.clinic,
                                                "printed_on": timezone.localdate(), **handout_context(plan)}, request)
    _read(request, who, "portal.handout_pdf", plan)
    return pdf_response(pdf, f"home-programme-{plan.start_date or timezone.localdate()}")
