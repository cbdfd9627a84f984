"""The patient side's own session: its own cookie, its own sign-in, its own idle timeout.

Staff sessions (Django's ``sessionid`` and ``request.user``) are never read or written here, and a
patient's session never sets ``request.user``: a signed-in patient who opens a staff URL is an
anonymous visitor there, and a staff session opens no patient page. The portal cookie is scoped to
``/portal/`` so the browser does not even send it elsewhere. Sessions live in Django's session store
(the database) under a key of their own; the patient's password hash is folded into the session, so
setting a new password ends every other session of that account.

Every portal view is wrapped in :func:`portal_view`: it loads the session and the account, answers
a missing page with the portal's own page (never the staff 404), marks the response ``no-store``
(a phone may be shared) and saves the session.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.crypto import salted_hmac

from palpate.portal.models import PortalAccount

COOKIE = "palpate_portal"
COOKIE_PATH = "/portal/"
ACCOUNT_KEY = "portal_account"
HASH_KEY = "portal_account_hash"
SEEN_KEY = "portal_last_seen"
CLINIC_KEY = "portal_clinic"  # the clinic's slug, kept after sign-out to send the patient to its sign-in
TOUCH_EVERY_SECONDS = 30


def _account_hash(account: PortalAccount) -> str:
    return salted_hmac("palpate.portal.session", account.password, algorithm="sha256").hexdigest()


class PortalSession:
    def __init__(self, request: HttpRequest) -> None:
        self.store = SessionStore(request.COOKIES.get(COOKIE))
        self.account: PortalAccount | None = None
        self.timed_out = False

    def load(self) -> PortalAccount | None:
        account_id = self.store.get(ACCOUNT_KEY)
        if account_id is None:
            return None
        account = (PortalAccount.objects.select_related("patient", "clinic")
                   .filter(pk=account_id, is_active=True).first())
        if account is None or not account.password or self.store.get(HASH_KEY) != _account_hash(account):
            self.sign_out()
            return None
        now = time.time()
        last = float(self.store.get(SEEN_KEY) or 0)
        if now - last > settings.PALPATE_PORTAL_IDLE_MINUTES * 60:
            self.sign_out()
            self.timed_out = True
            return None
        if now - last > TOUCH_EVERY_SECONDS:
            self.store[SEEN_KEY] = now
        self.account = account
        return account

    def sign_in(self, account: PortalAccount) -> None:
        # A new session key at every sign-in: a session id planted before it is worth nothing after.
        self.store.flush()
        self.store[ACCOUNT_KEY] = account.pk
        self.store[HASH_KEY] = _account_hash(account)
        self.store[SEEN_KEY] = time.time()
        self.store[CLINIC_KEY] = account.clinic.slug
        self.account = account

    def sign_out(self) -> None:
        slug = self.store.get(CLINIC_KEY)
        self.store.flush()
        if slug:
            self.store[CLINIC_KEY] = slug
        self.account = None

    @property
    def clinic_slug(self) -> str | None:
        return self.store.get(CLINIC_KEY)

    def save(self, response: HttpResponse) -> None:
        if not self.store.modified:
            return
        if not self.store.keys():
            response.delete_cookie(COOKIE, path=COOKIE_PATH)
            return
        self.store.set_expiry(settings.PALPATE_PORTAL_SESSION_HOURS * 3600)
        self.store.save()
        response.set_cookie(COOKIE, self.store.session_key, max_age=settings.PALPATE_PORTAL_SESSION_HOURS * 3600,
                            path=COOKIE_PATH, secure=settings.SESSION_COOKIE_SECURE, httponly=True, samesite="Lax")


class PortalRequest(HttpRequest):
    """A request inside a portal view: ``portal`` is its session, ``account`` the patient signed in."""

    portal: PortalSession
    account: PortalAccount


def portal_view(*, signed_in: bool = True) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Wrap a patient-side view; ``signed_in`` views send anyone else to the clinic's sign-in."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            session = PortalSession(request)
            request.portal = session  # type: ignore[attr-defined]
            account = session.load()
            request.account = account  # type: ignore[attr-defined]
            if signed_in and account is None:
                response = _to_sign_in(request, session)
            else:
                try:
                    response = view(request, *args, **kwargs)
                except Http404:
                    response = render(request, "portal/not_found.html", portal_context(request), status=404)
            session.save(response)
            # Patient pages are never kept by the browser or a proxy: a phone may be shared.
            response["Cache-Control"] = "no-store"
            return response

        wrapper.portal_view = True  # type: ignore[attr-defined]  # tests check every portal URL has it
        return wrapper

    return decorate


def _to_sign_in(request: HttpRequest, session: PortalSession) -> HttpResponse:
    if session.clinic_slug:
        from django.urls import reverse
        from django.utils.http import urlencode

        url = reverse("portal:sign_in", args=[session.clinic_slug])
        query = {"next": request.get_full_path()} if request.method == "GET" else {}
        if session.timed_out:
            query["timeout"] = "1"
        return redirect(f"{url}?{urlencode(query)}" if query else url)
    return render(request, "portal/find_clinic.html", portal_context(request), status=200)


def portal_context(request: HttpRequest, clinic: Any = None) -> dict[str, Any]:
    """What every patient page shows: the clinic's name and phone (and the emergency number)."""
    from palpate.portal.clinic_settings import settings_for

    account = getattr(request, "account", None)
    clinic = clinic or (account.clinic if account is not None else None)
    portal = settings_for(clinic) if clinic is not None else None
    return {"portal_clinic": clinic, "portal_settings": portal, "account": account}
