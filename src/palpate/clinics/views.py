from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme

from palpate.audit.diff import snapshot
from palpate.clinics import services
from palpate.clinics.forms import ClinicSettingsForm
from palpate.clinics.http import AuthenticatedHttpRequest
from palpate.clinics.middleware import SESSION_KEY
from palpate.clinics.roles import CLINIC_MANAGE
from palpate.lib.decorators import member_required


@login_required
def switch_clinic(request: AuthenticatedHttpRequest) -> HttpResponse:
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    wanted = request.POST.get("clinic")
    membership = next((m for m in request.memberships if str(m.clinic_id) == wanted), None)
    if membership is None:
        messages.error(request, "You are not a member of that clinic.")
    else:
        request.session[SESSION_KEY] = membership.clinic_id
        messages.success(request, f"Now working in {membership.clinic.name}.")
    # Patient pages belong to one clinic; after a switch, start from the patient list.
    target = request.POST.get("next") or "/patients/"
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}) or target.startswith("/patients/") and target != "/patients/":
        target = "/patients/"
    return redirect(target)


@member_required(CLINIC_MANAGE)
def clinic_settings(request: AuthenticatedHttpRequest) -> HttpResponse:
    actor = request.actor
    clinic = actor.clinic
    before = snapshot(clinic, services.SETTINGS_FIELDS)
    form = ClinicSettingsForm(request.POST or None, instance=clinic)
    if request.method == "POST" and form.is_valid():
        updated = form.save(commit=False)
        updated.policy_overrides = form.cleaned_policy
        services.do_update_settings(actor, updated, before)
        messages.success(request, "Clinic settings saved.")
        return redirect("clinics:settings")
    return render(request, "clinics/settings.html", {"form": form})
