from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_POST, require_safe

from palpate.accounts.forms import NewAccountForm
from palpate.accounts.lockout import locked_usernames
from palpate.accounts.middleware import has_device_expression
from palpate.accounts.models import User
from palpate.audit.diff import snapshot
from palpate.clinics import services
from palpate.clinics import staff as staff_services
from palpate.clinics.actor import Actor
from palpate.clinics.forms import ClinicSettingsForm, InviteForm, RoleForm
from palpate.clinics.http import AuthenticatedHttpRequest
from palpate.clinics.middleware import SESSION_KEY
from palpate.clinics.models import Clinic, Invitation, Membership
from palpate.clinics.roles import CLINIC_MANAGE, STAFF_MANAGE
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
    form = ClinicSettingsForm(request.POST or None, instance=clinic, user=request.user)
    if request.method == "POST" and form.is_valid():
        updated = form.save(commit=False)
        updated.policy_overrides = form.cleaned_policy
        services.do_update_settings(actor, updated, before, password_confirmed=form.two_factor_turned_off())
        messages.success(request, "Clinic settings saved.")
        return redirect("clinics:settings")
    return render(request, "clinics/settings.html", {"form": form})


# -- staff -----------------------------------------------------------------------------------------


def _members(clinic: Clinic) -> list[Membership]:
    members = Membership.objects.filter(clinic=clinic).select_related("user")
    if (has_device := has_device_expression()) is not None:
        members = members.annotate(has_second_factor=has_device)
    listed = list(members.order_by("-is_active", "user__last_name", "user__first_name", "user__username"))
    locked = locked_usernames([m.user.get_username() for m in listed])
    for member in listed:
        member.locked = member.user.get_username() in locked  # type: ignore[attr-defined]
    return listed


def _member(actor: Actor, pk: int) -> Membership:
    # Another clinic's member is a 404, like another clinic's patient.
    return get_object_or_404(Membership.objects.select_related("user"), pk=pk, clinic=actor.clinic)


def _invitation(actor: Actor, pk: int) -> Invitation:
    return get_object_or_404(Invitation, pk=pk, clinic=actor.clinic)


def _staff_page(request: AuthenticatedHttpRequest, form: InviteForm, status: int = 200, **extra: object) -> HttpResponse:
    clinic = request.actor.clinic
    invitations = list(Invitation.objects.filter(clinic=clinic, accepted_at__isnull=True, revoked_at__isnull=True)
                       .select_related("invited_by").order_by("-created_at"))
    return render(request, "clinics/staff.html", {"members": _members(clinic), "invitations": invitations,
                                                  "invite_form": form, **extra}, status=status)


@require_safe
@member_required(STAFF_MANAGE)
def staff(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Who works here, in which role, with two-factor sign-in or not; invitations waiting."""
    return _staff_page(request, InviteForm())


@require_POST
@member_required(STAFF_MANAGE)
def invite(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = InviteForm(request.POST)
    if not form.is_valid():
        return _staff_page(request, form)
    data = form.cleaned_data
    try:
        invitation, token = staff_services.do_invite(request.actor, staff_services.InviteInput(
            email=data["email"], role=data["role"], first_name=data["first_name"], last_name=data["last_name"]))
    except ValidationError as problem:
        for field, errors in problem.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
        return _staff_page(request, form)
    failure = staff_services.deliver_invitation(invitation, token)
    if failure:
        # The invitation stands; the owner can pass the link on themselves (shown once, here only).
        return _staff_page(request, InviteForm(), delivery_failed=failure,
                           manual_link=staff_services.invitation_link(invitation, token), invited=invitation)
    messages.success(request, f"Invitation sent to {invitation.email}. The link works for "
                              f"{settings.PALPATE_INVITATION_HOURS} hours.")
    return redirect("clinics:staff")


@require_POST
@member_required(STAFF_MANAGE)
def invitation_resend(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    invitation = _invitation(request.actor, pk)
    try:
        token = staff_services.do_resend(request.actor, invitation)
    except ValidationError as problem:
        messages.error(request, " ".join(problem.messages))
        return redirect("clinics:staff")
    failure = staff_services.deliver_invitation(invitation, token)
    if failure:
        return _staff_page(request, InviteForm(), delivery_failed=failure,
                           manual_link=staff_services.invitation_link(invitation, token), invited=invitation)
    messages.success(request, f"A new invitation was sent to {invitation.email}; the earlier link no longer works.")
    return redirect("clinics:staff")


@require_POST
@member_required(STAFF_MANAGE)
def invitation_withdraw(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    invitation = _invitation(request.actor, pk)
    try:
        staff_services.do_withdraw(request.actor, invitation)
    except ValidationError as problem:
        messages.error(request, " ".join(problem.messages))
    else:
        messages.success(request, f"The invitation to {invitation.email} was withdrawn; its link no longer works.")
    return redirect("clinics:staff")


@member_required(STAFF_MANAGE)
def member(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """One colleague: role, deactivation, their second factor and sign-in lock. Each action POSTs here."""
    actor = request.actor
    membership = _member(actor, pk)
    role_form = RoleForm(initial={"role": membership.role})
    error, status = "", 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            done = _member_action(request, membership, action)
        except ValidationError as problem:
            error, status = " ".join(problem.messages), 400
            role_form = RoleForm(request.POST)
        else:
            if done:
                messages.success(request, done)
                return redirect("clinics:member", pk=membership.pk)
            error, status = "Choose one of the actions on this page.", 400
    elif request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "POST"])
    membership = next(m for m in _members(actor.clinic) if m.pk == membership.pk)
    return render(request, "clinics/member.html", {"member": membership, "role_form": role_form, "error": error,
                                                   "is_self": membership.user_id == actor.user.pk}, status=status)


def _member_action(request: AuthenticatedHttpRequest, membership: Membership, action: str) -> str:
    """Do what the member page's button asked; returns what to tell the owner ('' for no such action)."""
    actor, name = request.actor, membership.user.display_name()
    if action == "role":
        form = RoleForm(request.POST)
        if not form.is_valid():
            raise ValidationError("Choose one of the roles listed.")
        changed = staff_services.do_change_role(actor, membership, form.cleaned_data["role"])
        return f"{name} is now {changed.get_role_display().lower()}."
    if action == "deactivate":
        staff_services.do_deactivate(actor, membership)
        return f"{name} was deactivated: they can no longer open this clinic, and their sessions were ended."
    if action == "reactivate":
        staff_services.do_reactivate(actor, membership)
        return f"{name} was reactivated in their role."
    if action == "reset_two_factor":
        staff_services.do_reset_second_factor(actor, membership)
        return (f"{name}'s two-factor sign-in was reset and their sessions ended. They set it up again at their "
                "next sign-in.")
    if action == "unlock":
        staff_services.do_unlock(actor, membership)
        return f"{name} can sign in again (their failed sign-ins were forgotten)."
    return ""


# -- joining by invitation -------------------------------------------------------------------------


def join(request: HttpRequest, pk: int, token: str) -> HttpResponse:
    """The invitation link: set a password for a new account, or join with the account one has."""
    invitation = staff_services.find_invitation(pk, token)
    if invitation is None:
        return render(request, "clinics/join_invalid.html", {"state": "unknown"}, status=404)
    if invitation.state != "pending":
        return render(request, "clinics/join_invalid.html", {"state": invitation.state, "invitation": invitation},
                      status=410)
    existing = staff_services.accounts_with_email(invitation.email)
    context: dict[str, object] = {"invitation": invitation, "clinic": invitation.clinic,
                                  "role": invitation.get_role_display()}
    if existing:
        return _join_existing(request, invitation, existing, context)
    if request.user.is_authenticated:
        context["signed_in_as_other"] = True
        return render(request, "clinics/join.html", context)
    form = NewAccountForm(request.POST or None, email=invitation.email, initial={
        "first_name": invitation.first_name, "last_name": invitation.last_name,
        "username": invitation.email.split("@")[0]})
    if request.method == "POST" and form.is_valid():
        try:
            staff_services.do_accept_with_new_account(invitation, form.cleaned_data)
        except ValidationError as problem:
            form.add_error(None, problem)
        else:
            messages.success(request, f"Your account is ready and you joined {invitation.clinic.name}. Sign in with "
                                      "your new username and password.")
            return redirect(f"{reverse('accounts:login')}?{urlencode({'next': '/'})}")
    return render(request, "clinics/join.html", {**context, "form": form})


def _join_existing(request: HttpRequest, invitation: Invitation, existing: list[User],
                   context: dict[str, object]) -> HttpResponse:
    if len(existing) > 1:
        context["ambiguous"] = True
        return render(request, "clinics/join.html", context)
    account = existing[0]
    context["account"] = account
    if not request.user.is_authenticated:
        context["login_url"] = f"{reverse('accounts:login')}?{urlencode({'next': request.get_full_path()})}"
        return render(request, "clinics/join.html", context)
    if request.user.pk != account.pk:
        context["signed_in_as_other"] = True
        return render(request, "clinics/join.html", context)
    if request.method == "POST":
        try:
            staff_services.do_accept_as(invitation, account)
        except ValidationError as problem:
            context["error"] = " ".join(problem.messages)
            return render(request, "clinics/join.html", context, status=400)
        request.session[SESSION_KEY] = invitation.clinic_id
        messages.success(request, f"You joined {invitation.clinic.name} as {invitation.get_role_display().lower()}.")
        return redirect("today")
    context["confirm"] = True
    return render(request, "clinics/join.html", context)
