"""Sign-in pages beyond Django's own: TOTP set-up and verification."""

from __future__ import annotations

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from palpate.accounts.forms import TokenForm


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or "/"
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return "/"


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
            if setting_up:
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                messages.success(request, "Two-factor sign-in is now on for your account.")
            otp_login(request, device)
            return redirect(_safe_next(request))
        form.add_error("token", "That code did not match. Check the time on your phone and try the newest code.")
    qr_svg = segno.make(device.config_url).svg_inline(scale=4) if setting_up else None
    return render(
        request,
        "accounts/two_factor.html",
        {"form": form, "setting_up": setting_up, "qr_svg": qr_svg, "next": _safe_next(request)},
    )


@login_required
def account(request: HttpRequest) -> HttpResponse:
    """The signed-in user's own page: clinics and roles, and two-factor sign-in status."""
    has_device = TOTPDevice.objects.filter(user=request.user, confirmed=True).exists()
    return render(request, "accounts/account.html", {"has_device": has_device})
