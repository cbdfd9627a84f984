from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from palpate.audit.diff import snapshot
from palpate.audit.services import record_read
from palpate.clinics.http import AuthenticatedHttpRequest
from palpate.clinics.roles import NOTE_SIGN, PATIENT_VIEW, PATIENT_WRITE
from palpate.lib.decorators import client_ip, member_required
from palpate.patients import services
from palpate.patients.access import access_episode, access_patient, patients_for
from palpate.patients.forms import EpisodeForm, PatientForm
from palpate.patients.models import Episode, EpisodeStatus, Patient
from palpate.patients.search import SEARCH_MAX_LENGTH, search

PAGE_SIZE = 25


@member_required(PATIENT_VIEW)
def patient_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    # A search longer than any name, number or address searches nothing: it says so (a form-level
    # error on the page) instead of running, or of growing the URL until the server answers 414.
    too_long = len(query) > SEARCH_MAX_LENGTH
    search_error = (f"Search for at most {SEARCH_MAX_LENGTH} characters: this search has {len(query)}. "
                    "Shorten it and search again.") if too_long else ""
    found = patients_for(request.actor).none() if too_long else search(patients_for(request.actor), query)
    # Only what the list shows: a clinic may hold tens of thousands of patients.
    patients = found.only(
        "id", "clinic_id", "family_name", "given_name", "record_number", "date_of_birth", "phone")
    page = Paginator(patients, PAGE_SIZE).get_page(request.GET.get("page"))
    # Names on a list are patient data too: who searched for what, and which ids were shown.
    record_read(request.actor, "patient.list", patient_id=None, ip_address=client_ip(request),
                detail={"query": query[:SEARCH_MAX_LENGTH], "page": page.number, "shown": [p.pk for p in page.object_list]})
    context = {"page": page, "query": query, "search_error": search_error, "search_max_length": SEARCH_MAX_LENGTH}
    template = "patients/list.html#results" if request.htmx else "patients/list.html"
    return render(request, template, context)


@member_required(PATIENT_WRITE)
def patient_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    actor = request.actor
    form = PatientForm(request.POST or None, clinic=actor.clinic)
    if request.method == "POST" and form.is_valid():
        patient = services.do_create_patient(actor, form.save(commit=False))
        messages.success(request, f"{patient.full_name} was added (record {patient.record_number}).")
        return redirect("patients:detail", pk=patient.pk)
    return render(request, "patients/form.html", {"form": form, "creating": True})


@member_required(PATIENT_VIEW)
def patient_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    actor = request.actor
    patient = access_patient(actor, pk)
    record_read(actor, "patient.view", patient_id=patient.pk, obj=patient, ip_address=client_ip(request))
    episodes = Episode.objects.filter(clinic_id=patient.clinic_id, patient=patient)
    return render(request, "patients/detail.html", {"patient": patient, "episodes": episodes})


@member_required(PATIENT_WRITE)
def patient_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    actor = request.actor
    patient = access_patient(actor, pk, write=True)
    before = snapshot(patient)
    form = PatientForm(request.POST or None, instance=patient, clinic=actor.clinic)
    if request.method == "POST" and form.is_valid():
        services.do_update_patient(actor, form.save(commit=False), before)
        messages.success(request, "Patient details saved.")
        return redirect("patients:detail", pk=patient.pk)
    if request.method != "POST":  # the form shows the whole record: a read (a save is audited as the change)
        record_read(actor, "patient.edit_view", patient_id=patient.pk, obj=patient, ip_address=client_ip(request))
    return render(request, "patients/form.html", {"form": form, "patient": patient, "creating": False})


@member_required(PATIENT_WRITE)
def episode_create(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    actor = request.actor
    patient = access_patient(actor, pk, write=True)
    form = EpisodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.do_create_episode(actor, patient, form.save(commit=False))
        messages.success(request, "Episode of care opened.")
        return redirect("patients:detail", pk=patient.pk)
    return render(request, "patients/episode_form.html", {"form": form, "patient": patient, "creating": True})


@member_required(PATIENT_WRITE)
def episode_edit(request: AuthenticatedHttpRequest, pk: int, episode_pk: int) -> HttpResponse:
    actor = request.actor
    patient = access_patient(actor, pk, write=True)
    episode = access_episode(actor, patient, episode_pk, write=True)
    before = snapshot(episode)
    form = EpisodeForm(request.POST or None, instance=episode)
    if request.method == "POST" and form.is_valid():
        services.do_update_episode(actor, form.save(commit=False), before)
        messages.success(request, "Episode saved.")
        return redirect(reverse("patients:detail", args=[patient.pk]))
    if request.method != "POST":
        record_read(actor, "episode.edit_view", patient_id=patient.pk, obj=episode, ip_address=client_ip(request))
    return render(request, "patients/episode_form.html", {"form": form, "patient": patient, "episode": episode, "creating": False})


@member_required(PATIENT_WRITE)
def episode_status(request: AuthenticatedHttpRequest, pk: int, episode_pk: int) -> HttpResponse:
    """Put an episode on hold, resume it, or reopen a discharged one, with a reason."""
    actor = request.actor
    patient = access_patient(actor, pk, write=True)
    episode = access_episode(actor, patient, episode_pk, write=True)
    return _episode_status(request, patient, episode)


@require_http_methods(["GET", "HEAD", "POST"])  # after the doors: another clinic's episode is a 404 first
def _episode_status(request: AuthenticatedHttpRequest, patient: Patient, episode: Episode) -> HttpResponse:
    actor = request.actor
    offered = services.allowed_status_changes(episode)
    if episode.status == EpisodeStatus.DISCHARGED and not actor.can(NOTE_SIGN):
        offered = []  # reopening is a therapist's decision (services.check_episode_status_change)
    to_status = request.POST.get("to_status", offered[0] if len(offered) == 1 else "")
    reason, error = request.POST.get("reason", ""), ""
    if request.method == "POST":
        try:
            services.do_change_episode_status(actor, episode, to_status, reason)
        except services.StatusChangeRefused as problem:
            error = str(problem)
        else:
            messages.success(request, f"Episode {EpisodeStatus(to_status).label.lower()}.")
            return redirect(reverse("patients:detail", args=[patient.pk]))
    else:
        record_read(actor, "episode.status_view", patient_id=patient.pk, obj=episode, ip_address=client_ip(request))
    choices = [(code, _STATUS_VERBS.get(code, EpisodeStatus(code).label)) for code in offered]
    return render(request, "patients/episode_status.html", {
        "patient": patient, "episode": episode, "choices": choices, "to_status": to_status, "reason": reason,
        "error": error, "history": list(episode.status_changes.select_related("changed_by")[:20]),
    }, status=400 if error else 200)


_STATUS_VERBS = {EpisodeStatus.ON_HOLD: "Put on hold", EpisodeStatus.ACTIVE: "Make active again"}
