"""Writes to a person's own account: profile, two-factor sign-in, recovery codes, sessions.

Each ``do_*`` changes the account and writes its audit events (``events.record_account_event``:
one per clinic of the account) in one transaction.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django_otp.plugins.otp_totp.models import TOTPDevice

from palpate.accounts import sessions
from palpate.accounts.events import record_account_event
from palpate.accounts.lockout import clear_account
from palpate.accounts.models import (
    RECOVERY_CODE_COUNT,
    RecoveryCode,
    RecoveryCodeDevice,
    User,
    new_recovery_code,
    recovery_code_digest,
)
from palpate.audit.diff import changed, snapshot

PROFILE_FIELDS = ["first_name", "last_name", "email", "credentials", "npi"]


def _replace_recovery_codes(user: User) -> list[str]:
    device, _ = RecoveryCodeDevice.objects.get_or_create(user=user, defaults={"name": "Recovery codes",
                                                                             "confirmed": True})
    device.codes.all().delete()
    device.throttle_reset(commit=False)
    device.confirmed = True
    device.save()
    codes = [new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    RecoveryCode.objects.bulk_create([RecoveryCode(device=device, digest=recovery_code_digest(c)) for c in codes])
    return codes


def do_enable_two_factor(request: HttpRequest, device: TOTPDevice) -> list[str]:
    """Confirm the authenticator just verified and make the recovery codes; returns them (shown once)."""
    user = device.user
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        # Only one authenticator: an older one (set up on a lost phone) stops working.
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        codes = _replace_recovery_codes(user)
        record_account_event(user, "account.two_factor_enabled", request, detail={"recovery_codes": len(codes)})
    return codes


def do_renew_recovery_codes(request: HttpRequest, user: User) -> list[str]:
    """New recovery codes; every earlier one stops working. Returns them (shown once)."""
    with transaction.atomic():
        codes = _replace_recovery_codes(user)
        record_account_event(user, "account.recovery_codes_renewed", request, detail={"recovery_codes": len(codes)})
    return codes


def remove_second_factor(user: User) -> int:
    """Delete the account's authenticators and recovery codes (a caller audits why); returns how many."""
    removed = 0
    for model in (TOTPDevice, RecoveryCodeDevice):
        count, _ = model.objects.filter(user=user).delete()
        removed += count
    return removed


def do_update_profile(request: HttpRequest, user: User, before: dict[str, Any]) -> User:
    with transaction.atomic():
        user.save()
        old, new = changed(before, snapshot(user, PROFILE_FIELDS))
        if new:
            record_account_event(user, "account.profile_updated", request, detail={"old": old, "new": new})
    return user


def do_sign_out_everywhere(request: HttpRequest, user: User) -> None:
    """End every session of the account, this one included."""
    with transaction.atomic():
        record_account_event(user, "account.signed_out_everywhere", request)
        sessions.end_every_session(user, "signed out everywhere")
    sessions.end_this_session(request, "signed out everywhere")


def do_after_password_change(request: HttpRequest, user: User, *, how: str) -> None:
    """A new password (``how``: "changed" by the person, "reset" by an emailed link) ends the other
    sessions (Django's session hash is of the password) and, after a reset, any lockout."""
    with transaction.atomic():
        if how == "reset":
            clear_account(user.get_username())
        record_account_event(user, f"account.password_{how}", request)
        sessions.end_every_session(user, f"password {how}", keep=request if how == "changed" else None)
