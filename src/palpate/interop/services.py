"""Every write of the interop app: ``check_*`` validates and changes nothing, ``do_*`` changes and audits.

Tokens (made, revoked), system clients (made), and bulk exports (started, cancelled, expired).
A token's secret is never stored, logged or audited: only its digest and a short prefix.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from palpate.accounts.models import User
from palpate.audit.services import record_event
from palpate.clinics.actor import Actor
from palpate.clinics.models import Clinic, Membership
from palpate.clinics.roles import CLINIC_MANAGE, Role
from palpate.interop.access import TOKEN_MARKER, digest_of
from palpate.interop.models import ApiToken, BulkExport, ExportStatus, Scope, SystemClient

# A system client acts with one of these roles: never an owner (a token cannot manage the clinic
# anyway) and never a therapist (nothing a token does needs a therapist's signature or override).
SYSTEM_CLIENT_ROLES = (Role.AUDITOR, Role.FRONT_DESK, Role.ASSISTANT)


class InputProblem(ValueError):
    """Bad input to a write: ``field`` is what to fix, the message says how."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def check_can_manage_tokens(actor: Actor | None) -> None:
    # None is the server's command line (``palpate token``): whoever runs it administers the server.
    if actor is not None and not actor.can(CLINIC_MANAGE):
        raise PermissionDenied("Only a clinic owner can manage API tokens.")


@dataclass(frozen=True)
class NewToken:
    clinic: Clinic
    membership: Membership
    label: str
    scope: str
    days: int


def check_create_token(actor: Actor | None, clinic: Clinic, membership: Membership | None, scope: str,
                       days: int | None, label: str = "") -> NewToken:
    check_can_manage_tokens(actor)
    if membership is None or membership.clinic_id != clinic.pk or not membership.is_active:
        raise InputProblem("member", f"Choose an active member of {clinic.name} for the token to act as.")
    if scope not in Scope.values:
        raise InputProblem("scope", f"The scope must be one of {', '.join(Scope.values)}, not {scope!r}.")
    max_days = settings.PALPATE_API_TOKEN_MAX_DAYS
    days = settings.PALPATE_API_TOKEN_DEFAULT_DAYS if days is None else days
    if not 1 <= days <= max_days:
        raise InputProblem("days", f"A token lasts 1 to {max_days} days, not {days}.")
    label = (label or "").strip() or f"{membership.user.get_username()} ({scope})"
    if len(label) > 120:
        raise InputProblem("label", "Keep the label to 120 characters.")
    return NewToken(clinic, membership, label, scope, days)


def do_create_token(actor: Actor | None, new: NewToken) -> tuple[ApiToken, str]:
    """Make the token; returns it and its secret, which is shown once and never stored."""
    check_can_manage_tokens(actor)
    secret = secrets.token_urlsafe(32)
    raw = f"{TOKEN_MARKER}{secret}"
    with transaction.atomic():
        token = ApiToken.objects.create(
            clinic=new.clinic, membership=new.membership, label=new.label, scope=new.scope, prefix=secret[:8],
            digest=digest_of(raw), created_by=actor.user if actor else None,
            expires_at=timezone.now() + dt.timedelta(days=new.days))
        record_event(actor=actor, clinic=new.clinic, action="token.create", obj=token, new={
            "label": token.label, "scope": token.scope, "member": new.membership.user.get_username(),
            "prefix": token.prefix, "expires_at": token.expires_at,
            "by": "command line" if actor is None else actor.user.get_username()})
    return token, raw


def do_revoke_token(actor: Actor | None, token: ApiToken) -> ApiToken:
    check_can_manage_tokens(actor)
    with transaction.atomic():
        locked = ApiToken.objects.select_for_update(no_key=True).get(pk=token.pk)
        if locked.revoked_at is None:
            locked.revoked_at = timezone.now()
            locked.revoked_by = actor.user if actor else None
            locked.save(update_fields=["revoked_at", "revoked_by"])
            record_event(actor=actor, clinic=locked.clinic, action="token.revoke", obj=locked,
                         new={"label": locked.label, "prefix": locked.prefix})
    return locked


def check_create_system_client(actor: Actor, name: str, role: str) -> tuple[str, str]:
    check_can_manage_tokens(actor)
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise InputProblem("client_name", "Name the other system (1 to 120 characters), e.g. 'County hospital referrals'.")
    if role not in SYSTEM_CLIENT_ROLES:
        raise InputProblem("client_role", "Choose what the system may do: " + ", ".join(SYSTEM_CLIENT_ROLES) + ".")
    if SystemClient.objects.filter(clinic=actor.clinic, name=name).exists():
        raise InputProblem("client_name", f"There is already a system client called {name!r}; choose it as the member.")
    return name, role


def do_create_system_client(actor: Actor, name: str, role: str) -> Membership:
    """A member account for another system: it cannot sign in (no usable password), only use tokens."""
    name, role = check_create_system_client(actor, name, role)
    base = re.sub(r"[^a-z0-9-]", "", slugify(name))[:40] or "client"
    with transaction.atomic():
        username = f"client-{actor.clinic.slug}-{base}"[:140]
        suffix = 1
        while User.objects.filter(username=username).exists():
            suffix += 1
            username = f"client-{actor.clinic.slug}-{base}-{suffix}"[:150]
        user = User(username=username, first_name=name[:150])
        user.set_unusable_password()
        user.save()
        membership = Membership.objects.create(clinic=actor.clinic, user=user, role=role)
        client = SystemClient.objects.create(clinic=actor.clinic, user=user, name=name, created_by=actor.user)
        record_event(actor=actor, action="system_client.create", obj=client,
                     new={"name": name, "role": role, "username": username})
    return membership


# -- bulk export --------------------------------------------------------------------------------------


def export_dir(export: BulkExport) -> Path:
    return Path(settings.PALPATE_FHIR_EXPORT_DIR) / f"clinic-{export.clinic_id}" / f"export-{export.pk}"


def do_start_export(actor: Actor, *, level: str, group: str, types: list[str], since: dt.datetime | None,
                    request_url: str) -> BulkExport:
    """Record the export and queue it for the worker once the row is committed."""
    from palpate.interop.tasks import run_export

    token = getattr(actor, "token", None)
    with transaction.atomic():
        export = BulkExport.objects.create(clinic=actor.clinic, token=token, membership=actor.membership, level=level,
                                           group=group, types=types, since=since, request_url=request_url)
        record_event(actor=actor, action="fhir.export.start", obj=export, new={
            "level": level, "group": group, "types": types, "since": since,
            "token": token.prefix if token else None})
        run_export.on_commit(export.pk)
    return export


def do_cancel_export(actor: Actor, export: BulkExport) -> None:
    """Cancel a running export or delete a finished one's files (the Bulk Data DELETE on the status URL)."""
    with transaction.atomic():
        locked = BulkExport.objects.select_for_update(no_key=True).get(pk=export.pk)
        if locked.status in (ExportStatus.QUEUED, ExportStatus.RUNNING):
            locked.status = ExportStatus.CANCELLED
        locked.deleted_at = timezone.now()
        locked.save(update_fields=["status", "deleted_at"])
        record_event(actor=actor, action="fhir.export.delete", obj=locked, new={"status": locked.status})
        transaction.on_commit(lambda: shutil.rmtree(export_dir(locked), ignore_errors=True))


def do_expire_exports(now: dt.datetime | None = None) -> int:
    """Delete the files of every export past its expiry; the rows stay (the trail refers to them)."""
    now = now or timezone.now()
    expired = list(BulkExport.objects.filter(expires_at__lte=now, deleted_at__isnull=True).select_related("clinic"))
    for export in expired:
        with transaction.atomic():
            BulkExport.objects.filter(pk=export.pk).update(deleted_at=now)
            record_event(actor=None, clinic=export.clinic, action="fhir.export.expire", obj=export,
                         new={"expired_at": export.expires_at})
        shutil.rmtree(export_dir(export), ignore_errors=True)
    return len(expired)
