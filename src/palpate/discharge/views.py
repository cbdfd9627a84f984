"""Discharge pages: the episode's discharge summary (draft form or signed summary), its PDF, addenda."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_safe

from palpate.audit.services import record_read
from palpate.clinics.http import AuthenticatedHttpRequest
from palpate.clinics.roles import CLINICAL_VIEW, CLINICAL_WRITE, NOTE_SIGN, PLAN_WRITE
from palpate.discharge import services, summary
from palpate.discharge.forms import DischargeForm
from palpate.discharge.models import Discharge
from palpate.lib.addenda import addendum_page
from palpate.lib.decorators import client_ip, member_required
from palpate.lib.models_common import RecordStatus
from palpate.lib.pdf import pdf_response, render_pdf
from palpate.lib.records import StaleEdit
from palpate.patients.access import access_episode, access_patient
from palpate.patients.models import Episode, EpisodeStatus, Patient


def _discharge(patient: Patient, discharge_pk: int) -> Discharge:
    try:
        return Discharge.objects.select_related("episode", "signed_by").get(
            clinic_id=patient.clinic_id, patient=patient, pk=discharge_pk)
    except Discharge.DoesNotExist:
        raise Http404("No such discharge summary") from None


def _episode_url(episode: Episode) -> str:
    return reverse("discharge:episode", args=[episode.patient_id, episode.pk])


@member_required(CLINICAL_VIEW)
def episode_discharge(request: AuthenticatedHttpRequest, pk: int, episode_pk: int) -> HttpResponse:
    actor = request.actor
    patient = access_patient(actor, pk, write=request.method == "POST")
    episode = access_episode(actor, patient, episode_pk)
    return _episode_discharge(request, patient, episode)


@require_http_methods(["GET", "HEAD", "POST"])  # after the doors: another clinic's episode is a 404 first
def _episode_discharge(request: AuthenticatedHttpRequest, patient: Patient, episode: Episode) -> HttpResponse:
    actor = request.actor
    signed = list(Discharge.objects.filter(clinic_id=episode.clinic_id, episode=episode, status=RecordStatus.SIGNED)
                  .select_related("signed_by").order_by("-signed_at", "-id"))
    if episode.status == EpisodeStatus.DISCHARGED and signed:
        if request.method == "POST":
            messages.info(request, "This episode is already discharged; its summary is signed and locked.")
            return redirect(_episode_url(episode))
        record_read(actor, "discharge.view", patient_id=patient.pk, obj=signed[0], ip_address=client_ip(request))
        return render(request, "discharge/summary.html", {
            "patient": patient, "episode": episode, "earlier": signed[1:], "can_sign": actor.can(NOTE_SIGN),
            **services.summary_context(signed[0]),
        })
    draft = services.open_draft(episode)
    plan = draft.plan if draft else summary.signed_plan(episode)
    goals = draft.goals if draft else summary.default_goals(plan)
    plan_home = summary.default_home_program(plan)
    chosen = {h.get("exercise") for h in draft.home_program} if draft else None
    kept = [i for i, h in enumerate(plan_home) if chosen is None or h.get("exercise") in chosen]
    form = DischargeForm(request.POST or None, initial=DischargeForm.initial_for(draft), goals=goals,
                         home_program=plan_home, kept=kept)
    problems: list[str] = []
    status = 200
    version: object = draft.version if draft else ""
    if request.method == "POST":
        outcome = _submit(request, episode, draft, form)
        if isinstance(outcome, HttpResponse):
            return outcome
        problems, status, nothing_saved = outcome
        draft = services.open_draft(episode)
        # A refused sign saved the draft first: the next save continues from that version. When
        # nothing was saved (a field to correct), the form keeps the version it was opened on.
        version = request.POST.get("version", "") if nothing_saved else (draft.version if draft else "")
    else:
        record_read(actor, "discharge.form_view", patient_id=patient.pk, obj=episode, ip_address=client_ip(request))
    return render(request, "discharge/form.html", {
        "patient": patient, "episode": episode, "form": form, "draft": draft, "plan": plan, "problems": problems,
        "outcome_rows": summary.outcome_lines(episode), "earlier": signed, "can_write": actor.can(PLAN_WRITE),
        "can_sign": actor.can(NOTE_SIGN), "version": version,
    }, status=status)


def _submit(request: AuthenticatedHttpRequest, episode: Episode, draft: Discharge | None,
            form: DischargeForm) -> HttpResponse | tuple[list[str], int, bool]:
    """Save the draft, then sign it if asked; a redirect on success, else (problems, status, nothing saved)."""
    actor = request.actor
    services.check_can_write(actor)  # 403 for an assistant, whatever was posted
    if not form.is_valid():
        return [], 400, True
    try:
        saved = services.do_save_discharge(actor, episode, draft, form.value(), request.POST.get("version"))
    except services.InvalidDischarge as invalid:
        for name, message in invalid.errors.items():
            form.add_error(name if name in form.fields else None, message)
        return [], 400, True
    except StaleEdit:
        # The form continues from the current version: saving again replaces it deliberately.
        return ["Someone saved this discharge summary after you opened it. What you typed is below; "
                "check it against the current version and save again."], 409, False
    if request.POST.get("action") != "sign":
        messages.success(request, "Discharge summary saved as a draft.")
        return redirect(_episode_url(episode))
    try:
        services.do_sign_discharge(actor, saved, saved.version)
    except services.NotSignable as refused:
        return [*refused.problems, "Your draft was saved; complete it, then sign."], 400, False
    messages.success(request, "Discharge summary signed. The episode is discharged.")
    return redirect(_episode_url(episode))


@member_required(CLINICAL_VIEW)
def summary_pdf(request: AuthenticatedHttpRequest, pk: int, discharge_pk: int) -> HttpResponse:
    patient = access_patient(request.actor, pk)
    return _summary_pdf(request, patient, _discharge(patient, discharge_pk))


@require_safe
def _summary_pdf(request: AuthenticatedHttpRequest, patient: Patient, discharge: Discharge) -> HttpResponse:
    actor = request.actor
    context: dict[str, Any] = {"patient": patient, "episode": discharge.episode, "clinic": actor.clinic,
                               **services.summary_context(discharge)}
    pdf = render_pdf("discharge/summary_pdf.html", context, request)
    record_read(actor, "discharge.pdf", patient_id=patient.pk, obj=discharge, ip_address=client_ip(request))
    return pdf_response(pdf, f"discharge summary {patient.record_number} {discharge.discharged_on or 'draft'}")


@member_required(CLINICAL_WRITE)
def add_addendum(request: AuthenticatedHttpRequest, pk: int, discharge_pk: int) -> HttpResponse:
    actor = request.actor
    patient = access_patient(actor, pk, write=request.method == "POST")
    discharge = _discharge(patient, discharge_pk)
    return _add_addendum(request, patient, discharge)


@require_http_methods(["GET", "HEAD", "POST"])
def _add_addendum(request: AuthenticatedHttpRequest, patient: Patient, discharge: Discharge) -> HttpResponse:
    actor = request.actor
    return addendum_page(
        request, patient, discharge, label="Discharge summary", back_url=_episode_url(discharge.episode),
        do_add=lambda text: services.do_add_discharge_addendum(actor, discharge, text),
        can_sign=actor.can(NOTE_SIGN),
        on_view=lambda: record_read(actor, "discharge.addendum_view", patient_id=patient.pk, obj=discharge,
                                    ip_address=client_ip(request)))
