"""Staff administration: invitations, roles, deactivation, a colleague's second factor and lockout.

Owners (``STAFF_MANAGE``) do all of it; every change is audited in the clinic's trail in the same
transaction. Two rules hold whatever the order of clicks:

- a clinic always keeps an active owner: demoting or deactivating the last one is refused (the
  clinic row is locked while owners are counted, so two owners demoting each other at once cannot
  both succeed);
- a deactivated member loses the clinic at once (memberships are read on every request) and every
  session of the account ends (``accounts.sessions.end_every_session``).

An invitation link carries a random token; only its SHA-256 is stored. It works once, until it
expires (``PALPATE_INVITATION_HOURS``), unless withdrawn or sent again (a new token).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from palpate.accounts import sessions
from palpate.accounts.events import AccountActor, record_account_event
from palpate.accounts.lockout import clear_account
from palpate.accounts.models import User
from palpate.accounts.services import remove_second_factor
from palpate.audit.services import record_event
from palpate.clinics.actor import Actor
from palpate.clinics.models import Clinic, Invitation, Membership
from palpate.clinics.roles import STAFF_MANAGE, Role


def clinics_of_account(user: Any) -> list[Clinic]:
    """The clinics where ``user`` is an active member (the accounts app's ``clinics_of`` slot)."""
    return [m.clinic for m in Membership.objects.filter(user=user, is_active=True).select_related("clinic")
            .order_by("clinic_id")]


def check_can_manage_staff(actor: Actor) -> None:
    if not actor.can(STAFF_MANAGE):
        raise PermissionDenied("Only an owner of the clinic can manage its staff.")


def _lock_clinic(clinic: Clinic) -> Clinic:
    # FOR NO KEY UPDATE, as palpate.patients.services explains: audit rows inserted meanwhile
    # reference the clinic and must not wait for this lock.
    return Clinic.objects.select_for_update(no_key=True).get(pk=clinic.pk)


def _other_active_owners(clinic: Clinic, membership: Membership) -> int:
    return (Membership.objects.filter(clinic=clinic, role=Role.OWNER, is_active=True, user__is_active=True)
            .exclude(pk=membership.pk).count())


LAST_OWNER = ("{name} is the clinic's only active owner: make another member an owner first, so the clinic "
              "always has someone who can manage it.")


# -- invitations -----------------------------------------------------------------------------------


def _token() -> tuple[str, str]:
    token = secrets.token_urlsafe(32)
    return token, hashlib.sha256(token.encode()).hexdigest()


def invitation_link(invitation: Invitation, token: str) -> str:
    return settings.PALPATE_BASE_URL + reverse("clinics:join", args=[invitation.pk, token])


@dataclass(frozen=True)
class InviteInput:
    email: str
    role: str
    first_name: str = ""
    last_name: str = ""


def check_invitation(actor: Actor, invite: InviteInput) -> None:
    """ValidationError (with the field it concerns) when the invitation cannot be made."""
    check_can_manage_staff(actor)
    if invite.role not in Role.values:
        raise ValidationError({"role": "Choose one of the roles listed."})
    email = invite.email.strip()
    member = (Membership.objects.filter(clinic=actor.clinic, user__email__iexact=email)
              .select_related("user").first())
    if member is not None and member.is_active:
        raise ValidationError({"email": f"{member.user.display_name()} already works here with this address; "
                                        "change their role on their page instead."})
    if Invitation.objects.pending().filter(clinic=actor.clinic, email__iexact=email).exists():
        raise ValidationError({"email": "This address already has an invitation waiting; send it again from "
                                        "the list below instead."})


def do_invite(actor: Actor, invite: InviteInput) -> tuple[Invitation, str]:
    """Make the invitation; returns it with its token (the only copy: it goes into the link)."""
    check_invitation(actor, invite)
    token, digest = _token()
    with transaction.atomic():
        invitation = Invitation.objects.create(
            clinic=actor.clinic, email=invite.email.strip(), first_name=invite.first_name.strip(),
            last_name=invite.last_name.strip(), role=invite.role, token_digest=digest, invited_by=actor.user,
            expires_at=timezone.now() + dt.timedelta(hours=settings.PALPATE_INVITATION_HOURS))
        record_event(actor=actor, action="invitation.create", obj=invitation,
                     new={"email": invitation.email, "role": invitation.role, "expires_at": invitation.expires_at})
    return invitation, token


def deliver_invitation(invitation: Invitation, token: str) -> str:
    """Email the link (after the invitation is committed); returns what went wrong, or ''."""
    context = {"invitation": invitation, "clinic": invitation.clinic, "link": invitation_link(invitation, token),
               "role": invitation.get_role_display(), "hours": settings.PALPATE_INVITATION_HOURS,
               "inviter": invitation.invited_by.display_name() if invitation.invited_by else "The clinic's owner"}
    try:
        send_mail(f"Join {invitation.clinic.name} on Palpate", render_to_string("clinics/email/invitation.txt", context),
                  None, [invitation.email])
    except Exception as exc:  # SMTP down, bad settings: the owner is told and can send it again
        return f"{type(exc).__name__}: {exc}"
    return ""


def do_resend(actor: Actor, invitation: Invitation) -> str:
    """A new link (the old one stops working) and a new expiry; returns the new token."""
    check_can_manage_staff(actor)
    if invitation.accepted_at:
        raise ValidationError("This invitation was already accepted.")
    token, digest = _token()
    with transaction.atomic():
        invitation.token_digest = digest
        invitation.revoked_at = None
        invitation.expires_at = timezone.now() + dt.timedelta(hours=settings.PALPATE_INVITATION_HOURS)
        invitation.save(update_fields=["token_digest", "revoked_at", "expires_at"])
        record_event(actor=actor, action="invitation.resend", obj=invitation,
                     new={"email": invitation.email, "expires_at": invitation.expires_at})
    return token


def do_withdraw(actor: Actor, invitation: Invitation) -> None:
    check_can_manage_staff(actor)
    if invitation.accepted_at:
        raise ValidationError("This invitation was already accepted; deactivate the member instead.")
    with transaction.atomic():
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        record_event(actor=actor, action="invitation.withdraw", obj=invitation, new={"email": invitation.email})


def find_invitation(pk: int, token: str) -> Invitation | None:
    """The invitation the link names, if its token is right (in constant time); None otherwise."""
    invitation = Invitation.objects.select_related("clinic", "invited_by").filter(pk=pk).first()
    digest = hashlib.sha256(token.encode()).hexdigest()
    if invitation is None or not hmac.compare_digest(invitation.token_digest, digest):
        return None
    return invitation


def accounts_with_email(email: str) -> list[User]:
    return list(User.objects.filter(email__iexact=email.strip())[:2])


def _claim(invitation: Invitation) -> Invitation:
    """Lock the invitation and check it still works (a second click of the same link loses)."""
    current = Invitation.objects.select_for_update(no_key=True).get(pk=invitation.pk)
    if current.state != "pending":
        raise ValidationError(f"This invitation is {current.state}; ask the clinic's owner for a new one.")
    return current


def _join(invitation: Invitation, user: User, how: str) -> Membership:
    membership, created = Membership.objects.get_or_create(clinic=invitation.clinic, user=user,
                                                           defaults={"role": invitation.role})
    if not created:  # a former member coming back
        membership.role, membership.is_active = invitation.role, True
        membership.save(update_fields=["role", "is_active"])
    invitation.accepted_at, invitation.accepted_by = timezone.now(), user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    record_event(actor=AccountActor(user, invitation.clinic), action="invitation.accept", clinic=invitation.clinic,
                 obj=membership, new={"email": invitation.email, "role": invitation.role, "account": how,
                                      "invitation": invitation.pk})
    return membership


def do_accept_with_new_account(invitation: Invitation, data: dict[str, Any]) -> User:
    """Create the invited person's account with the password they chose, and their membership."""
    with transaction.atomic():
        invitation = _claim(invitation)
        if accounts_with_email(invitation.email):
            raise ValidationError("An account with this email address exists already; sign in to accept.")
        user = User(username=data["username"], first_name=data["first_name"], last_name=data.get("last_name", ""),
                    email=invitation.email)
        user.set_password(data["password1"])
        try:
            with transaction.atomic():
                user.save()
        except IntegrityError:  # someone took the username between the form's check and now
            raise ValidationError("That username was just taken; choose another.") from None
        _join(invitation, user, "new")
    return user


def do_accept_as(invitation: Invitation, user: User) -> Membership:
    """The signed-in person whose account has the invited address joins the clinic."""
    with transaction.atomic():
        invitation = _claim(invitation)
        if user.email.strip().lower() != invitation.email.strip().lower():
            raise PermissionDenied("This invitation was sent to another email address.")
        return _join(invitation, user, "existing")


# -- members ---------------------------------------------------------------------------------------


def do_change_role(actor: Actor, membership: Membership, role: str) -> Membership:
    check_can_manage_staff(actor)
    if role not in Role.values:
        raise ValidationError("Choose one of the roles listed.")
    if role == membership.role:
        return membership
    with transaction.atomic():
        clinic = _lock_clinic(actor.clinic)
        membership = Membership.objects.select_related("user").get(pk=membership.pk, clinic=clinic)
        if membership.role == Role.OWNER and membership.is_active and not _other_active_owners(clinic, membership):
            raise ValidationError(LAST_OWNER.format(name=membership.user.display_name()))
        old = membership.role
        membership.role = role
        membership.save(update_fields=["role"])
        record_event(actor=actor, action="member.role", obj=membership, old={"role": old}, new={"role": role})
    return membership


def do_deactivate(actor: Actor, membership: Membership) -> Membership:
    """The member loses the clinic at once and every session of their account ends."""
    check_can_manage_staff(actor)
    with transaction.atomic():
        clinic = _lock_clinic(actor.clinic)
        membership = Membership.objects.select_related("user").get(pk=membership.pk, clinic=clinic)
        if not membership.is_active:
            return membership
        if membership.role == Role.OWNER and not _other_active_owners(clinic, membership):
            raise ValidationError(LAST_OWNER.format(name=membership.user.display_name()))
        membership.is_active = False
        membership.save(update_fields=["is_active"])
        record_event(actor=actor, action="member.deactivate", obj=membership, old={"is_active": True},
                     new={"is_active": False, "sessions_ended": True})
        sessions.end_every_session(membership.user, "deactivated by an owner")
    return membership


def do_reactivate(actor: Actor, membership: Membership) -> Membership:
    check_can_manage_staff(actor)
    with transaction.atomic():
        membership = Membership.objects.select_for_update(no_key=True).get(pk=membership.pk, clinic=actor.clinic)
        if membership.is_active:
            return membership
        membership.is_active = True
        membership.save(update_fields=["is_active"])
        record_event(actor=actor, action="member.reactivate", obj=membership, old={"is_active": False},
                     new={"is_active": True})
    return membership


def do_reset_second_factor(actor: Actor, membership: Membership) -> int:
    """Remove a colleague's authenticator and recovery codes (a lost phone); their sessions end.

    They set up two-factor sign-in again at their next sign-in if a clinic of theirs requires it.
    The event goes into this clinic's trail and, as an account event, into their other clinics'.
    """
    check_can_manage_staff(actor)
    if membership.user_id == actor.user.pk:
        raise PermissionDenied("You cannot reset your own two-factor sign-in here: use a recovery code, or ask "
                               "another owner.")
    user = membership.user
    with transaction.atomic():
        removed = remove_second_factor(user)
        record_event(actor=actor, action="member.two_factor_reset", obj=membership, new={"devices_removed": removed})
        others = [c for c in clinics_of_account(user) if c.pk != actor.clinic.pk]
        record_account_event(user, "account.two_factor_reset", detail={"by": actor.user.get_username(),
                                                                       "clinic": actor.clinic.name}, clinics=others)
        sessions.end_every_session(user, "two-factor sign-in reset by an owner")
    return removed


def do_unlock(actor: Actor, membership: Membership) -> int:
    """Lift a colleague's sign-in lockout (failed passwords); returns the failures forgotten."""
    check_can_manage_staff(actor)
    with transaction.atomic():
        forgotten = clear_account(membership.user.get_username())
        record_event(actor=actor, action="member.unlock", obj=membership, new={"failures_forgotten": forgotten})
    return forgotten
