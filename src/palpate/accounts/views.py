"""Sign-in and the person's own account: password, two-factor sign-in, recovery codes, sessions.

Every sign-in event (signed in, failed, locked out, signed out, second factor passed or failed,
recovery code used) is written to the trail of each clinic of the account (``events``).
"""

from __future__ import annotations

from typing import Any

import segno
from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp import user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice

from palpate.accounts import services, sessions
from palpate.accounts.events import log_unknown_account, record_account_event
from palpate.accounts.forms import (
    PasswordConfirmForm,
    ProfileForm,
    RecoveryCodeForm,
    SignInForm,
    TokenForm,
)
from palpate.accounts.lockout import LockoutHandler
from palpate.accounts.models import RecoveryCodeDevice, User
from palpate.audit.diff import snapshot


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or "/"
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return "/"


# -- signing in and out ----------------------------------------------------------------------------


def _lockout_handler() -> LockoutHandler:
    handler = AxesProxyHandler.get_implementation()
    assert isinstance(handler, LockoutHandler), "settings.AXES_HANDLER must be palpate's LockoutHandler"
    return handler


class SignInView(auth_views.LoginView):
    template_name = "accounts/login.html"
    form_class = SignInForm
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # Whether this try meets a lock already in place: a lock is audited once, when it starts,
        # and tries against it are not (they would let anyone flood a clinic's trail).
        for header in ("HTTP_USER_AGENT", "HTTP_ACCEPT"):  # axes stores them; PostgreSQL refuses a NUL in text
            if header in request.META:
                request.META[header] = str(request.META[header]).replace("\x00", "")
        AxesProxyHandler.update_request(request)
        typed = request.POST.get("username", "").strip()
        self.locked_before = _lockout_handler().locked_by(request, {"username": typed}) if typed else ""
        return super().post(request, *args, **kwargs)

    def form_valid(self, form: SignInForm) -> HttpResponse:
        response = super().form_valid(form)  # logs in; Django rotates the session key
        user = form.get_user()
        remember = bool(form.cleaned_data.get("remember"))
        sessions.start_session(self.request, user, remember=remember)
        record_account_event(user, "account.signed_in", self.request,
                             detail={"remember": remember, "second_factor_next": user_has_device(user, confirmed=True)})
        return response

    def form_invalid(self, form: SignInForm) -> HttpResponse:
        request = self.request
        username = form.cleaned_data.get("username") or request.POST.get("username", "")
        user = User.objects.filter(username=username).first() if username else None
        locked_now = getattr(request, "axes_locked_out", False)
        if not (locked_now or form.has_error(NON_FIELD_ERRORS, "invalid_login")):
            pass  # a field left empty: no password was tried
        elif self.locked_before:
            pass  # already locked (and audited when it locked): axes answers with the lockout page
        elif locked_now:
            by = _lockout_handler().locked_by(request, {"username": username}) or "account"
            if user is not None:
                record_account_event(user, "account.locked_out", request, detail={"by": by})
            else:
                log_unknown_account("account.locked_out", request)
        elif user is not None:
            record_account_event(user, "account.sign_in_failed", request, detail={"reason": "wrong password"})
        else:
            log_unknown_account("account.sign_in_failed", request)
        return super().form_invalid(form)


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        record_account_event(request.user, "account.signed_out", request)
        sessions.end_this_session(request, "signed out")
    return redirect(settings.LOGOUT_REDIRECT_URL)


# -- two-factor sign-in ----------------------------------------------------------------------------


def _secret_text(device: TOTPDevice) -> str:
    """The authenticator's key in base32, in groups of four, for apps that cannot scan."""
    import base64

    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


@login_required
def two_factor(request: HttpRequest) -> HttpResponse:
    """Verify a TOTP code; if the user has no confirmed device yet, set one up first."""
    user = request.user
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    setting_up = device is None
    if setting_up:
        device = TOTPDevice.objects.filter(user=user, confirmed=False).first() or TOTPDevice.objects.create(
            user=user, name="Authenticator app", confirmed=False
        )
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        allowed, _details = device.verify_is_allowed()
        if not allowed:
            # django-otp throttles after wrong codes (the wait doubles each time).
            form.add_error("token", "Too many wrong codes in a row. Wait a few seconds, then enter the newest code.")
        elif device.verify_token(form.cleaned_data["token"]):
            otp_login(request, device)
            if setting_up:
                codes = services.do_enable_two_factor(request, device)
                # Shown in this answer only (no-store): never kept anywhere in plain text.
                return render(request, "accounts/recovery_codes.html", {"codes": codes, "next": _safe_next(request),
                                                                         "first_time": True})
            record_account_event(user, "account.two_factor_passed", request, detail={"with": "authenticator"})
            return redirect(_safe_next(request))
        else:
            if not setting_up:
                record_account_event(user, "account.two_factor_failed", request, detail={"with": "authenticator"})
            form.add_error("token", "That code did not match. Check the time on your phone and try the newest code.")
    context = {"form": form, "setting_up": setting_up, "next": _safe_next(request)}
    if setting_up:
        context |= {"qr_svg": segno.make(device.config_url).svg_inline(scale=4), "secret": _secret_text(device)}
    return render(request, "accounts/two_factor.html", context)


@login_required
def recovery_sign_in(request: HttpRequest) -> HttpResponse:
    """Pass the second step with a recovery code instead of the authenticator app."""
    device = RecoveryCodeDevice.objects.filter(user=request.user, confirmed=True).first()
    form = RecoveryCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device is not None and not device.verify_is_allowed()[0]:
            form.add_error("code", "Too many wrong codes in a row. Wait a few seconds and try again.")
        elif device is not None and device.verify_token(form.cleaned_data["code"]):
            otp_login(request, device)
            left = device.remaining()
            record_account_event(request.user, "account.two_factor_passed", request,
                                 detail={"with": "recovery code", "recovery_codes_left": left})
            if left <= 2:
                messages.warning(request, f"You have {left} recovery code{'s' if left != 1 else ''} left. "
                                          "Make new ones on your account page.")
            else:
                messages.info(request, f"Recovery code used; {left} left. Each code works once.")
            return redirect(_safe_next(request))
        else:
            record_account_event(request.user, "account.two_factor_failed", request, detail={"with": "recovery code"})
            form.add_error("code", "That recovery code is not valid or was already used.")
    return render(request, "accounts/recovery_sign_in.html", {"form": form, "next": _safe_next(request),
                                                              "has_codes": device is not None})


@login_required
def renew_recovery_codes(request: HttpRequest) -> HttpResponse:
    """New recovery codes, after the person's password; the old ones stop working."""
    if not TOTPDevice.objects.filter(user=request.user, confirmed=True).exists():
        messages.error(request, "Set up two-factor sign-in first; recovery codes come with it.")
        return redirect("accounts:account")
    form = PasswordConfirmForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        codes = services.do_renew_recovery_codes(request, request.user)
        return render(request, "accounts/recovery_codes.html", {"codes": codes, "next": reverse("accounts:account"),
                                                                 "first_time": False})
    return render(request, "accounts/renew_recovery_codes.html", {"form": form})


# -- the account page ------------------------------------------------------------------------------


@login_required
def account(request: HttpRequest) -> HttpResponse:
    """The person's own page: profile, clinics and roles, password, two-factor sign-in, sessions."""
    user = request.user
    before = snapshot(user, services.PROFILE_FIELDS)
    form = ProfileForm(request.POST or None, instance=user)
    if request.method == "POST" and form.is_valid():
        services.do_update_profile(request, form.save(commit=False), before)
        messages.success(request, "Your details were saved.")
        return redirect("accounts:account")
    if request.method == "POST":
        user.refresh_from_db()  # the form's instance took the refused values; the page shows the stored ones
    has_device = TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    recovery = RecoveryCodeDevice.objects.filter(user=user, confirmed=True).first()
    return render(request, "accounts/account.html", {
        "form": form, "has_device": has_device, "recovery_left": recovery.remaining() if recovery else None,
    })


@login_required
def session_list(request: HttpRequest) -> HttpResponse:
    """The person's active sessions, and "sign out everywhere"."""
    if request.method == "POST":
        services.do_sign_out_everywhere(request, request.user)
        messages.success(request, "You were signed out everywhere, on this device too. Sign in again.")
        return redirect(settings.LOGIN_URL)
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "POST"])
    actor = getattr(request, "actor", None)
    listed = sessions.active_sessions(request.user, actor.clinic if actor else None)
    current = request.session.get(sessions.RECORD)
    return render(request, "accounts/sessions.html", {"sessions": listed, "current": current})


# -- passwords -------------------------------------------------------------------------------------


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:account")

    def form_valid(self, form: Any) -> HttpResponse:
        with transaction.atomic():
            response = super().form_valid(form)  # saves, keeps this session (update_session_auth_hash)
            services.do_after_password_change(self.request, form.user, how="changed")
        messages.success(self.request, "Your password was changed. Your other sessions were signed out.")
        return response


class PasswordResetView(auth_views.PasswordResetView):
    """The same answer whether or not an account has the address (Django's view never says)."""

    template_name = "accounts/password_reset.html"
    email_template_name = "accounts/email/password_reset.txt"
    subject_template_name = "accounts/email/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_sent")

    def get_extra_email_context(self) -> dict[str, Any]:
        # Links are built on the configured address, never on the Host header a request claims.
        return {"base_url": settings.PALPATE_BASE_URL, "minutes": settings.PASSWORD_RESET_TIMEOUT // 60}

    extra_email_context = property(get_extra_email_context)  # type: ignore[assignment]


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:login")

    def form_valid(self, form: Any) -> HttpResponse:
        with transaction.atomic():
            response = super().form_valid(form)
            services.do_after_password_change(self.request, form.user, how="reset")
        messages.success(self.request, "Your password was set. Sign in with it now.")
        return response
