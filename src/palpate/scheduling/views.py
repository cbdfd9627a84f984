"""The schedule's pages: the calendar, booking, an appointment and its actions, settings, the feed.

Thin: forms turn what was posted into values, the services decide and write, and a refusal comes
back on the same form with everything typed, what was wrong and the next free slot to take.
Every page that names patients audits the read.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_safe

from palpate.audit.services import record_read
from palpate.clinics.http import AuthenticatedHttpRequest
from palpate.clinics.roles import CLINIC_MANAGE, CLINICAL_WRITE, PATIENT_VIEW, PATIENT_WRITE
from palpate.lib.decorators import client_ip, member_required
from palpate.lib.voiding import void_page
from palpate.patients.access import access_episode, access_patient
from palpate.patients.search import search
from palpate.plans.models import PlanOfCare
from palpate.scheduling import calendar as cal
from palpate.scheduling import feed, grid, services
from palpate.scheduling.access import access_appointment, appointments_for
from palpate.scheduling.forms import (
    AuthorizationForm,
    BookingForm,
    CancelForm,
    ClosureForm,
    MoveForm,
    NoShowForm,
    RoomForm,
    SeriesForm,
    SettingsForm,
    TimeOffForm,
    WeekHoursForm,
    active_episodes,
)
from palpate.scheduling.models import (
    Appointment,
    Closure,
    OpeningHours,
    Room,
    TimeOff,
    WorkingHours,
)

SEARCH_RESULTS = 20


def _day(value: str | None, default: dt.date) -> dt.date:
    try:
        day = dt.date.fromisoformat(value) if value else default
    except ValueError:
        raise Http404("No such day") from None
    if not cal.FIRST_YEAR <= day.year <= cal.LAST_YEAR:
        raise Http404("No calendar for that year")
    return day


def _int(value: object) -> int | None:
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 10**18 else None


def _local_today(settings: Any) -> dt.date:
    return timezone.now().astimezone(services.zone(settings)).date()


def _offer_url(request: AuthenticatedHttpRequest, view: str, slot: services.Slot | None, tz: Any,
               args: tuple[Any, ...] = ()) -> str:
    """The same form again, with everything typed, at the offered slot."""
    if slot is None:
        return ""
    values = {k: v for k, v in request.POST.items() if k not in ("csrfmiddlewaretoken", "confirm_over_authorization")}
    at = slot.starts_at.astimezone(tz)
    values.update({"therapist": str(slot.therapist_id), "date": at.date().isoformat(), "time": at.strftime("%H:%M")})
    return reverse(view, args=args) + "?" + urlencode(values)


def _offer_words(refusal: services.SchedulingRefused | None, tz: Any) -> str:
    slot = refusal.next_free if refusal else None
    return f"{cal.words(slot.starts_at, tz)} with {slot.therapist_name}" if slot else ""


# -- the calendar ------------------------------------------------------------------------------------


@member_required(PATIENT_VIEW)
@require_safe
def calendar_home(request: AuthenticatedHttpRequest) -> HttpResponse:
    actor = request.actor
    settings = services.schedule_settings(actor.clinic)
    mine = actor.can(CLINICAL_WRITE) and services.is_treating_member(actor.clinic.pk, actor.user.pk)
    url = reverse("scheduling:day", args=[_local_today(settings).isoformat()])
    return redirect(f"{url}?therapist={actor.user.pk}" if mine else url)


@member_required(PATIENT_VIEW)
@require_safe
def calendar_view(request: AuthenticatedHttpRequest, view: str, day: str) -> HttpResponse:
    actor = request.actor
    settings = services.schedule_settings(actor.clinic)
    shown = _day(day, _local_today(settings))
    therapist_id = _int(request.GET.get("therapist"))
    page = grid.build(settings, view, shown, therapist_id)
    if therapist_id is not None and page.therapist is None:
        raise Http404("No such therapist in this clinic")
    step = dt.timedelta(days=7 if view == "week" else 1)
    query = f"?therapist={therapist_id}" if page.therapist else ""
    record_read(actor, "schedule.view", patient_id=None, ip_address=client_ip(request),
                detail={"view": view, "from": page.first, "until": page.last, "patients_shown": page.patient_ids})
    return render(request, "scheduling/calendar.html", {
        "page": page, "settings": settings, "tz": services.zone(settings).key, "query": query,
        "prev": reverse(f"scheduling:{view}", args=[(shown - step).isoformat()]) + query,
        "next": reverse(f"scheduling:{view}", args=[(shown + step).isoformat()]) + query,
        "today": reverse(f"scheduling:{view}", args=[_local_today(settings).isoformat()]) + query,
        "other_view": reverse("scheduling:week" if view == "day" else "scheduling:day", args=[shown.isoformat()]) + query,
        "shown": shown, "can_book": actor.can(PATIENT_WRITE),
    })


# -- booking -----------------------------------------------------------------------------------------


def _booking_form(request: AuthenticatedHttpRequest) -> BookingForm:
    """Bound to what was posted; on GET, filled in from the link's values (a free slot, an offer)."""
    actor = request.actor
    settings = services.schedule_settings(actor.clinic)
    episodes = active_episodes(actor.clinic.pk)
    initial: dict[str, Any] = {"date": _local_today(settings)}
    if request.method != "POST":
        initial.update({k: v for k, v in request.GET.items() if k in BookingForm.base_fields})
    return BookingForm(request.POST if request.method == "POST" else None, staff=services.treating_staff(actor.clinic),
                       clinic_id=actor.clinic.pk, settings=settings, episodes=episodes, initial=initial)


def _matches(request: AuthenticatedHttpRequest, query: str, chosen: object = None) -> list[Any]:
    """Active episodes of the patients a search finds (and the one already chosen)."""
    actor = request.actor
    episodes = active_episodes(actor.clinic.pk)
    found: list[Any] = []
    if query.strip():
        from palpate.patients.access import patients_for

        ids = list(search(patients_for(actor), query).values_list("pk", flat=True)[:SEARCH_RESULTS])
        found = list(episodes.filter(patient_id__in=ids).order_by("patient__family_name", "patient__given_name", "-id"))
    chosen_id = _int(chosen)
    if chosen_id and not any(e.pk == chosen_id for e in found):
        found = list(episodes.filter(pk=chosen_id)) + found
    return found


@member_required(PATIENT_VIEW)
@require_safe
def find_episode(request: AuthenticatedHttpRequest) -> HttpResponse:
    """htmx: the episodes of the patients matching what was typed in the booking form."""
    query = request.GET.get("q", "")[:100]
    found = _matches(request, query)
    record_read(request.actor, "schedule.find_patient", patient_id=None, ip_address=client_ip(request),
                detail={"patients_shown": sorted({e.patient_id for e in found})})
    return render(request, "scheduling/_episode_choices.html", {"found": found, "query": query, "chosen": None})


@member_required(PATIENT_WRITE)
def book(request: AuthenticatedHttpRequest) -> HttpResponse:
    actor = request.actor
    settings = services.schedule_settings(actor.clinic)
    tz = services.zone(settings)
    form = _booking_form(request)
    refusal: services.SchedulingRefused | None = None
    offer = ""
    values = request.POST if request.method == "POST" else request.GET
    if request.method == "POST" and "find" not in request.POST and form.is_valid():
        booking = services.Booking(
            episode=form.cleaned_data["episode"], therapist_id=form.cleaned_data["therapist"],
            starts_at=form.cleaned_data["starts_at"], minutes=form.cleaned_data["minutes"],
            kind=form.cleaned_data["kind"], room_id=form.cleaned_data["room"],
            confirm_over_authorization=form.cleaned_data["confirm_over_authorization"])
        try:
            appointment = services.do_book(actor, booking)
        except services.SchedulingRefused as refused:
            refusal = refused
            offer = _offer_url(request, "scheduling:book", refused.next_free, tz)
        else:
            messages.success(request, f"Booked {appointment.get_kind_display().lower()} on "
                                      f"{cal.words(appointment.starts_at, tz)}.")
            return redirect(reverse("scheduling:day", args=[appointment.starts_at.astimezone(tz).date().isoformat()])
                            + f"?therapist={appointment.therapist_id}")
    found = _matches(request, str(values.get("q", "")), values.get("episode"))
    if found:
        record_read(actor, "schedule.find_patient", patient_id=None, ip_address=client_ip(request),
                    detail={"patients_shown": sorted({e.patient_id for e in found})})
    status = 409 if refusal is not None else (400 if request.method == "POST" and form.errors and "find" not in request.POST else 200)
    return render(request, "scheduling/book.html", {
        "form": form, "found": found, "chosen": _int(values.get("episode")), "refusal": refusal, "offer": offer,
        "tz": tz.key, "confirm": isinstance(refusal, services.OverAuthorization),
        "offer_words": _offer_words(refusal, tz)}, status=status)


# -- one appointment -----------------------------------------------------------------------------------


@member_required(PATIENT_VIEW)
def appointment_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    actor = request.actor
    appointment = access_appointment(actor, pk, related=("patient", "episode", "therapist", "room", "status_changed_by",
                                                         "booked_by", "visit"))
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    settings = services.schedule_settings(actor.clinic)
    record_read(actor, "appointment.view", patient_id=appointment.patient_id, obj=appointment,
                ip_address=client_ip(request))
    tz = services.zone(settings)
    now = timezone.now()
    return render(request, "scheduling/appointment.html", {
        "a": appointment, "tz": tz.key, "when": cal.words(appointment.starts_at, tz),
        "until": cal.words(appointment.ends_at, tz, False),
        "changed": cal.words(appointment.status_changed_at, tz) if appointment.status_changed_at else "",
        "is_today": appointment.starts_at.astimezone(tz).date() == now.astimezone(tz).date(),
        "has_begun": now >= appointment.starts_at, "can_write": actor.can(PATIENT_WRITE),
        "can_start": actor.can(CLINICAL_WRITE), "attendance": services.patient_no_shows(appointment.patient, now),
        "cancel_form": CancelForm(), "no_show_form": NoShowForm(),
        "reminders": [(r, cal.words(r.starts_at, tz)) for r in appointment.reminders.order_by("-created_at")[:5]],
    })


def _back(appointment: Appointment) -> HttpResponse:
    return redirect("scheduling:appointment", pk=appointment.pk)


@member_required(PATIENT_WRITE)
def check_in(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    appointment = access_appointment(request.actor, pk, write=True)  # the door first: another clinic's is a 404
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        services.do_check_in(request.actor, appointment)
    except services.SchedulingRefused as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, f"{appointment.patient.full_name} has arrived.")
    target = request.POST.get("next", "")
    return redirect(target) if target in ("/", reverse("today")) else _back(appointment)


@member_required(CLINICAL_WRITE)
def start(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    appointment = access_appointment(request.actor, pk, write=True)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        visit = services.do_start(request.actor, appointment)
    except services.SchedulingRefused as refused:
        messages.error(request, refused.message)
        return _back(appointment)
    return redirect("visits:note", pk=visit.patient_id, visit_pk=visit.pk)


@member_required(PATIENT_WRITE)
def cancel(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return _reasoned(request, pk, CancelForm, "cancel")


@member_required(PATIENT_WRITE)
def no_show(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return _reasoned(request, pk, NoShowForm, "no_show")


def _reasoned(request: AuthenticatedHttpRequest, pk: int, form_class: type, what: str) -> HttpResponse:
    actor = request.actor
    appointment = access_appointment(actor, pk, write=True)
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    form = form_class(request.POST or None)
    problem = ""
    if request.method == "POST" and form.is_valid():
        try:
            if what == "cancel":
                done = services.do_cancel(actor, appointment, form.cleaned_data["reason"],
                                          by_patient=form.cleaned_data["by"] == "patient")
            else:
                done = services.do_no_show(actor, appointment, form.cleaned_data["reason"])
        except services.SchedulingRefused as refused:
            problem = refused.message
        else:
            messages.success(request, f"Recorded: {done.get_status_display().lower()}.")
            return _back(appointment)
    settings = services.schedule_settings(actor.clinic)
    tz = services.zone(settings)
    return render(request, "scheduling/reasoned.html", {
        "a": appointment, "form": form, "what": what, "problem": problem, "when": cal.words(appointment.starts_at, tz),
    }, status=409 if problem else (400 if request.method == "POST" else 200))


@member_required(PATIENT_WRITE)
def move(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    actor = request.actor
    appointment = access_appointment(actor, pk, write=True)
    settings = services.schedule_settings(actor.clinic)
    tz = services.zone(settings)
    at = appointment.starts_at.astimezone(tz)
    initial = {"therapist": appointment.therapist_id, "date": at.date(), "time": at.time(), "minutes": appointment.minutes,
               "room": appointment.room_id, "kind": appointment.kind}
    if request.method != "POST":
        initial.update({k: v for k, v in request.GET.items() if k in MoveForm.base_fields})
    form = MoveForm(request.POST if request.method == "POST" else None, staff=services.treating_staff(actor.clinic),
                    clinic_id=actor.clinic.pk, settings=settings, initial=initial)
    refusal, offer = None, ""
    if request.method == "POST" and form.is_valid():
        booking = services.Booking(episode=appointment.episode, therapist_id=form.cleaned_data["therapist"],
                                   starts_at=form.cleaned_data["starts_at"], minutes=form.cleaned_data["minutes"],
                                   kind=form.cleaned_data["kind"], room_id=form.cleaned_data["room"])
        try:
            moved = services.do_move(actor, appointment, booking)
        except services.SchedulingRefused as refused:
            refusal = refused
            offer = _offer_url(request, "scheduling:move", refused.next_free, tz, (appointment.pk,))
        else:
            messages.success(request, f"Moved to {cal.words(moved.starts_at, tz)}.")
            return _back(appointment)
    return render(request, "scheduling/move.html", {"a": appointment, "form": form, "refusal": refusal,
                                                    "offer": offer, "tz": tz.key, "offer_words": _offer_words(refusal, tz),
                                                    "when": cal.words(appointment.starts_at, tz)},
                  status=409 if refusal else (400 if request.method == "POST" and form.errors else 200))


# -- the patient's schedule, the plan's series, authorisations --------------------------------------------


@member_required(PATIENT_VIEW)
def patient_schedule(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return _patient_schedule(request, access_patient(request.actor, pk))


@require_safe  # after the patient door: another clinic's patient is a 404 whatever the method
def _patient_schedule(request: AuthenticatedHttpRequest, patient: Any) -> HttpResponse:
    actor = request.actor
    settings = services.schedule_settings(actor.clinic)
    tz = services.zone(settings)
    appointments = list(appointments_for(actor).filter(patient=patient).select_related("therapist", "room", "episode")
                        .order_by("-starts_at")[:200])
    record_read(actor, "appointment.list", patient_id=patient.pk, obj=patient, ip_address=client_ip(request))
    rows = [(a, cal.words(a.starts_at, tz)) for a in appointments]
    return render(request, "scheduling/patient.html", {"patient": patient, "rows": rows, "tz": tz.key,
                                                       "attendance": services.patient_no_shows(patient)})


@member_required(PATIENT_WRITE)
def book_series(request: AuthenticatedHttpRequest, pk: int, plan_pk: int) -> HttpResponse:
    actor = request.actor
    patient = access_patient(actor, pk, write=True)
    try:
        plan = PlanOfCare.objects.select_related("episode").get(clinic_id=patient.clinic_id, patient=patient, pk=plan_pk)
    except PlanOfCare.DoesNotExist:
        raise Http404("No such plan of care") from None
    settings = services.schedule_settings(actor.clinic)
    tz = services.zone(settings)
    staff = services.treating_staff(actor.clinic)
    today = _local_today(settings)
    default_therapist = actor.user.pk if any(m.user_id == actor.user.pk for m in staff) else \
        (plan.signed_by_id if any(m.user_id == plan.signed_by_id for m in staff) else (staff[0].user_id if staff else None))
    form = SeriesForm(request.POST or None, staff=staff, clinic_id=actor.clinic.pk, initial={
        "therapist": default_therapist, "first_day": max(today + dt.timedelta(days=1), plan.start_date or today),
        "minutes": settings.treatment_minutes})
    counts = services.plan_counts(plan)
    proposal, problem = None, ""
    usable = plan.is_signed and plan.superseded_by_id is None
    if not usable:
        problem = "Only the signed plan of care in force can be booked as a series."
    elif request.method == "POST" and form.is_valid():
        series = services.SeriesRequest(plan=plan, therapist_id=form.cleaned_data["therapist"], slots=form.slots(),
                                        first_day=form.cleaned_data["first_day"], minutes=form.cleaned_data["minutes"],
                                        room_id=form.cleaned_data["room"])
        try:
            if "confirm" in request.POST:
                proposal = services.do_book_series(actor, series)
                placed = len(proposal.appointments)
                messages.success(request, f"Booked {placed} appointment{'s' if placed != 1 else ''} from the plan of care"
                                          + (f"; {len(proposal.unplaced)} could not be placed (listed on the chart)."
                                             if proposal.unplaced else "."))
                return redirect("patient_schedule:list", pk=patient.pk)
            proposal = services.check_series(actor, series)
        except services.SchedulingRefused as refused:
            problem = refused.message
    record_read(actor, "appointment.series_view", patient_id=patient.pk, obj=plan, ip_address=client_ip(request))
    placed = [(cal.words(p.starts_at, tz), cal.words(p.ends_at, tz, False)) for p in proposal.placed] if proposal else []
    unplaced = [(f"{u.day:%a %Y-%m-%d} {u.at:%H:%M}", u.reason,
                 f"{cal.words(u.alternative[0], tz)}" if u.alternative else "") for u in proposal.unplaced] if proposal else []
    return render(request, "scheduling/series.html", {
        "patient": patient, "plan": plan, "form": form, "counts": counts, "proposal": proposal, "placed": placed,
        "unplaced": unplaced, "problem": problem, "usable": usable, "tz": tz.key,
    }, status=409 if problem and request.method == "POST" else (400 if request.method == "POST" and form.errors else 200))


@member_required(PATIENT_WRITE)
def add_authorization(request: AuthenticatedHttpRequest, pk: int, episode_pk: int) -> HttpResponse:
    actor = request.actor
    patient = access_patient(actor, pk, write=True)
    episode = access_episode(actor, patient, episode_pk, write=True)
    form = AuthorizationForm(request.POST or None)
    problem = ""
    if request.method == "POST" and form.is_valid():
        try:
            services.do_add_authorization(actor, episode, **form.cleaned_data)
        except services.SchedulingRefused as refused:
            problem = refused.message
        else:
            messages.success(request, "Authorisation saved.")
            return redirect("patients:detail", pk=patient.pk)
    return render(request, "scheduling/authorization.html", {"patient": patient, "episode": episode, "form": form,
                                                             "problem": problem},
                  status=400 if request.method == "POST" else 200)


# -- settings ------------------------------------------------------------------------------------------


def _hours_of(rows: Any, start: str, end: str) -> dict[int, tuple[dt.time, dt.time]]:
    return {r.weekday: (getattr(r, start), getattr(r, end)) for r in rows}


@member_required(CLINIC_MANAGE)
def schedule_settings(request: AuthenticatedHttpRequest) -> HttpResponse:
    actor = request.actor
    clinic = actor.clinic
    settings = services.schedule_settings(clinic)
    staff = services.treating_staff(clinic)
    section = request.POST.get("section", "") if request.method == "POST" else ""
    therapist_id = _int(request.POST.get("therapist") or request.GET.get("therapist")) or (staff[0].user_id if staff else None)
    if therapist_id is not None and not any(m.user_id == therapist_id for m in staff):
        raise Http404("No such therapist in this clinic")
    forms_ = {
        "general": SettingsForm(request.POST if section == "general" else None, instance=settings),
        "opening": WeekHoursForm(request.POST if section == "opening" else None, prefix="opening",
                                 initial_rows=_hours_of(OpeningHours.objects.filter(clinic=clinic), "opens", "closes")),
        "working": WeekHoursForm(request.POST if section == "working" else None, prefix="working",
                                 initial_rows=_hours_of(WorkingHours.objects.filter(clinic=clinic, therapist_id=therapist_id),
                                                        "starts", "ends")),
        "closure": ClosureForm(request.POST if section == "closure" else None, prefix="closure"),
        "room": RoomForm(request.POST if section == "room" else None, prefix="room"),
        "time_off": TimeOffForm(request.POST if section == "time_off" else None, prefix="off", staff=staff,
                                settings=settings),
    }
    problem = ""
    if section in forms_:
        form = forms_[section]
        if form.is_valid():
            data = form.cleaned_data
            try:
                if section == "general":
                    services.do_save_settings(actor, settings, {k: data[k] for k in SettingsForm.Meta.fields})
                elif section == "opening":
                    services.do_set_weekly_hours(actor, form.rows())
                elif section == "working":
                    services.do_set_weekly_hours(actor, form.rows(), therapist_id=therapist_id)
                elif section == "closure":
                    services.do_add_closure(actor, data["starts_on"], data["ends_on"], data["reason"])
                elif section == "room":
                    services.do_add_room(actor, data["name"])
                elif section == "time_off":
                    services.do_add_time_off(actor, data["therapist"], data["starts_at"], data["ends_at"], data["reason"])
            except services.SchedulingRefused as refused:
                problem = refused.message
            else:
                messages.success(request, "Scheduling settings saved.")
                return redirect(reverse("scheduling:settings") + (f"?therapist={therapist_id}" if section == "working" else ""))
    elif request.method == "POST":
        return HttpResponse("Unknown section of the settings page.", status=400)
    today = _local_today(settings)
    return render(request, "scheduling/settings.html", {
        "forms": forms_, "settings": settings, "staff": staff, "therapist_id": therapist_id, "problem": problem,
        "closures": Closure.objects.filter(clinic=clinic, ends_on__gte=today),
        "holidays": sorted(services.public_holidays(settings, today, today + dt.timedelta(days=365)).items()),
        "rooms": Room.objects.filter(clinic=clinic),
        "time_off": TimeOff.objects.filter(clinic=clinic, ends_at__gte=timezone.now()).select_related("therapist"),
    }, status=400 if section and problem or (section and not forms_[section].is_valid()) else 200)


# -- the private calendar feed ---------------------------------------------------------------------------


@member_required(PATIENT_VIEW)
def feed_settings(request: AuthenticatedHttpRequest) -> HttpResponse:
    actor = request.actor
    token = ""
    if request.method == "POST":
        if request.POST.get("action") == "revoke":
            count = services.do_revoke_feeds(actor)
            messages.success(request, "Your calendar feed is revoked." if count else "You had no active feed.")
            return redirect("scheduling:feed")
        token = services.do_create_feed(actor)
    elif request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "POST"])
    url = request.build_absolute_uri(reverse("scheduling:feed_ics", args=[token])) if token else ""
    active = feed.active_feed(actor)
    return render(request, "scheduling/feed.html", {"url": url, "active": active})


@require_safe
def feed_ics(request: Any, token: str) -> HttpResponse:
    """The therapist's appointments as iCalendar, for a phone's calendar (no session: the token is the key)."""
    found = feed.feed_for_token(token)
    if found is None:
        raise Http404("No such calendar feed")
    body = feed.feed_calendar(*found, ip_address=client_ip(request))
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, no-store"
    return response



@member_required(PATIENT_WRITE)
def void(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Mark an appointment booked by mistake entered in error (another clinic's is a 404)."""
    actor = request.actor
    appointment = access_appointment(actor, pk, write=True, related=("patient", "voided_by"), include_voided=True)
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    record_read(actor, "appointment.void_view", patient_id=appointment.patient_id, obj=appointment,
                ip_address=client_ip(request))
    tz = services.zone(services.schedule_settings(actor.clinic))
    when = cal.words(appointment.starts_at, tz)
    crumbs = [(appointment.patient.full_name, reverse("patients:detail", args=[appointment.patient_id]))]
    if not appointment.is_voided:
        crumbs.append((f"Appointment {when}", reverse("scheduling:appointment", args=[appointment.pk])))
    return void_page(request, appointment, what=f"the appointment of {when}", crumbs=crumbs,
                     done_url=reverse("scheduling:home"), refusals=(services.SchedulingRefused,),
                     do_void=lambda reason: services.do_void_appointment(actor, appointment, reason))
