from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme

from palpate.clinics.middleware import SESSION_KEY


@login_required
def switch_clinic(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    wanted = request.POST.get("clinic")
    membership = next((m for m in request.memberships if str(m.clinic_id) == wanted), None)  # type: ignore[attr-defined]
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
