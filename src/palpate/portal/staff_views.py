"""The staff pages about a patient's portal: access, warning signs, check-ins, questionnaires at home,
and the clinic's portal settings. Every patient page reads the patient through the one door
(``palpate.patients.access``) first: another clinic's patient is a 404."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_safe

from palpate.audit.services import record_read
from palpate.clinics.http import AuthenticatedHttpRequest
from palpate.clinics.roles import CLINIC_MANAGE, CLINICAL_VIEW, CLINICAL_WRITE, PATIENT_WRITE
from palpate.core.errors import InputError
from palpate.lib.decorators import client_ip, member_required
from palpate.patients.access import access_patient
from palpate.patients.models import Episode, EpisodeStatus, Patient
from palpate.portal import services
from palpate.portal.chart import flag_rows
from palpate.portal.clinic_settings import settings_for
from palpate.portal.forms import AcknowledgeForm, AssignForm, InviteForm, PortalSettingsForm
from palpate.portal.models import PortalAccount, QuestionnaireAssignment, WarningFlag
from palpate.reported.models import CheckIn
from palpate.reported.services import sign_words


def _chart(patient: Patient) -> str:
    return reverse("patients:detail", args=[patient.pk])


@member_required(PATIENT_WRITE)
def access(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Give the patient access (an invitation by email), send a new one, or end access."""
    actor = request.actor
    patient = access_patient(actor, pk, write=True)
    return _access(request, patient)


@require_http_methods(["GET", "HEAD", "POST"])
def _access(request: AuthenticatedHttpRequest, patient: Patient) -> HttpResponse:
    actor = request.actor
    account = PortalAccount.objects.filter(clinic=actor.clinic, patient=patient).first()
    form = InviteForm(request.POST if request.POST.get("action") == "invite" else None,
                      initial={"email": account.email if account else patient.email})
    if request.method == "POST" and request.POST.get("action") == "revoke" and account is not None:
        services.do_revoke(actor, account)
        messages.success(request, f"{patient.full_name} can no longer sign in to the patient portal.")
        return redirect(_chart(patient))
    if request.method == "POST" and form.is_valid():
        try:
            services.do_invite(actor, patient, form.cleaned_data["email"])
        except InputError as problem:
            form.add_error("email", problem.message)
        else:
            messages.success(request, f"Invitation sent to {form.cleaned_data['email']}. The link works once, for "
                                      f"{settings_for(actor.clinic).link_valid_days} days.")
            return redirect(_chart(patient))
    record_read(actor, "portal.access_view", patient_id=patient.pk, obj=patient, ip_address=client_ip(request))
    return render(request, "portal/staff_access.html", {"patient": patient, "account": account, "form": form})


@member_required(CLINICAL_WRITE)
def flags(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The patient's open warning signs with the policy's advice; each is acknowledged with a note."""
    patient = access_patient(request.actor, pk, write=request.method == "POST")
    return _flags(request, patient)


@require_http_methods(["GET", "HEAD", "POST"])
def _flags(request: AuthenticatedHttpRequest, patient: Patient) -> HttpResponse:
    actor = request.actor
    open_flags = list(WarningFlag.objects.filter(clinic=actor.clinic, patient=patient, acknowledged_at__isnull=True)
                      .select_related("check_in", "therapist").order_by("raised_at"))
    forms = {flag.pk: AcknowledgeForm(prefix=f"f{flag.pk}") for flag in open_flags}
    if request.method == "POST":
        flag = next((f for f in open_flags if str(f.pk) == request.POST.get("flag")), None)
        if flag is None:
            messages.info(request, "That warning sign was acknowledged already.")
            return redirect(reverse("portal_staff:flags", args=[patient.pk]))
        form = AcknowledgeForm(request.POST, prefix=f"f{flag.pk}")
        forms[flag.pk] = form
        if form.is_valid():
            try:
                done = services.do_acknowledge_flag(actor, flag, form.cleaned_data["note"])
            except InputError as problem:
                form.add_error("note", problem.message)
            else:
                messages.success(request, "Acknowledged." if done else "Someone acknowledged it a moment ago.")
                return redirect(reverse("portal_staff:flags", args=[patient.pk]))
    done = list(WarningFlag.objects.filter(clinic=actor.clinic, patient=patient, acknowledged_at__isnull=False)
                .select_related("acknowledged_by").order_by("-acknowledged_at")[:10])
    record_read(actor, "portal.flags_view", patient_id=patient.pk, obj=patient, ip_address=client_ip(request))
    return render(request, "portal/staff_flags.html", {
        "patient": patient, "rows": [(row, forms[row["flag"].pk]) for row in flag_rows(open_flags)],
        "done": flag_rows(done)})


@member_required(CLINICAL_VIEW)
def check_ins(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    patient = access_patient(request.actor, pk)
    return _check_ins(request, patient)


@require_safe
def _check_ins(request: AuthenticatedHttpRequest, patient: Patient) -> HttpResponse:
    actor = request.actor
    rows = list(CheckIn.objects.filter(clinic=actor.clinic, patient=patient).select_related("episode", "therapist")
                .order_by("-visit_date", "-id")[:50])
    for row in rows:
        row.sign_words = sign_words(row.warning_signs or [])  # type: ignore[attr-defined]
    record_read(actor, "portal.check_ins_view", patient_id=patient.pk, obj=patient, ip_address=client_ip(request))
    return render(request, "portal/staff_check_ins.html", {"patient": patient, "rows": rows})


@member_required(CLINICAL_WRITE)
def questionnaires(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Assign a questionnaire to fill at home (once, or every few days); stop one."""
    patient = access_patient(request.actor, pk, write=request.method == "POST")
    return _questionnaires(request, patient)


@require_http_methods(["GET", "HEAD", "POST"])
def _questionnaires(request: AuthenticatedHttpRequest, patient: Patient) -> HttpResponse:
    actor = request.actor
    episodes = list(Episode.objects.filter(clinic=actor.clinic, patient=patient, status=EpisodeStatus.ACTIVE))
    assignments = list(QuestionnaireAssignment.objects.filter(clinic=actor.clinic, patient=patient,
                                                              stopped_at__isnull=True)
                       .exclude(open_from__isnull=True).select_related("episode", "assigned_by"))
    form = AssignForm(request.POST if request.POST.get("action") == "assign" else None, episodes=episodes)
    if request.method == "POST" and request.POST.get("action") == "stop":
        assignment = next((a for a in assignments if str(a.pk) == request.POST.get("assignment")), None)
        if assignment is not None:
            services.do_stop_assignment(actor, assignment)
            messages.success(request, "The questionnaire was stopped; its link no longer works.")
        return redirect(reverse("portal_staff:questionnaires", args=[patient.pk]))
    if request.method == "POST" and form.is_valid():
        episode = next(e for e in episodes if e.pk == form.cleaned_data["episode"])
        wanted = services.Assignment(form.cleaned_data["instrument"], form.cleaned_data["due_on"],
                                     form.cleaned_data.get("repeat_days"))
        try:
            services.do_assign(actor, patient, episode, wanted)
        except InputError as problem:
            form.add_error(problem.path if problem.path in form.fields else None, problem.message)
        else:
            messages.success(request, "Assigned. The patient gets an email with a link, and sees it when signed in.")
            return redirect(reverse("portal_staff:questionnaires", args=[patient.pk]))
    record_read(actor, "portal.questionnaires_view", patient_id=patient.pk, obj=patient, ip_address=client_ip(request))
    return render(request, "portal/staff_questionnaires.html", {
        "patient": patient, "form": form, "assignments": assignments, "episodes": episodes,
        "reachable": bool(patient.email or PortalAccount.objects.filter(patient=patient, is_active=True).exists())})


@member_required(CLINIC_MANAGE)
@require_http_methods(["GET", "HEAD", "POST"])
def clinic_settings(request: AuthenticatedHttpRequest) -> HttpResponse:
    actor = request.actor
    current = settings_for(actor.clinic)
    form = PortalSettingsForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        values = {name: form.cleaned_data[name] for name in form.Meta.fields}
        services.do_update_settings(actor, values)
        messages.success(request, "Patient portal settings saved.")
        return redirect("portal_settings")
    return render(request, "portal/staff_settings.html", {"form": form})
