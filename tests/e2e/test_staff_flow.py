"""An owner invites a therapist, who sets a password, signs in, turns on two-factor sign-in with the
secret shown on the page, keeps the recovery codes and signs in with one. And the API docs work in
the browser under the strict content security policy, from Palpate's own files."""

from __future__ import annotations

import base64
import re

import pytest
from django.core import mail
from django_otp.oath import TOTP

from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.e2e

PASSWORD = "rolling pin on the calf"


def test_an_invited_therapist_joins_turns_on_two_factor_and_signs_in_with_a_recovery_code(
        live_server, live_db, world, page, screenshot, settings):
    base = live_server.url
    settings.PALPATE_BASE_URL = base
    mail.outbox.clear()

    # The owner invites a colleague.
    sign_in(page, base, "olivia", "correct horse battery")
    page.get_by_role("link", name="Staff").click()
    page.get_by_label("Email address").fill("nadia.kovac@example.org")
    page.get_by_label("First name").fill("Nadia")
    page.get_by_label("Last name").fill("Kovač")
    page.get_by_label("Role").select_option("therapist")
    page.get_by_role("button", name="Send invitation").click()
    assert page.get_by_text("Invitation sent to nadia.kovac@example.org").is_visible()
    assert page.get_by_role("cell", name="nadia.kovac@example.org", exact=True).is_visible()
    screenshot("staff-invited")
    page.get_by_role("button", name="Sign out").click()

    # She opens the link from the email and chooses a username and password.
    [message] = mail.outbox
    link = re.search(r"(http://\S+/clinics/join/\d+/\S+/)", message.body).group(1)
    page.goto(link)
    assert page.get_by_role("heading", name="Join Harbor Physical Therapy").is_visible()
    page.get_by_label("Username").fill("nadia")
    page.get_by_label(re.compile(r"^Password(?! again)")).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Create my account").click()
    page.wait_for_url(re.compile(r"/accounts/login/"))
    assert page.get_by_text("Your account is ready").is_visible()

    # She signs in and turns on two-factor sign-in, typing the key into her "app" (computed here).
    sign_in(page, base, "nadia", PASSWORD)
    page.get_by_role("link", name=re.compile(r"nadia · Therapist")).click()
    page.get_by_role("link", name="Set up two-factor sign-in").click()
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    page.get_by_label("6-digit code").fill(f"{TOTP(key).token():06d}")
    page.get_by_role("button", name="Confirm").click()
    assert page.get_by_role("heading", name="Save your recovery codes").is_visible()
    codes = page.get_by_role("list", name="Recovery codes").locator("code").all_inner_texts()
    assert len(codes) == 10
    screenshot("recovery-codes")
    page.get_by_role("link", name="I have saved them; continue").click()
    assert page.get_by_text("On: you confirm each sign-in").is_visible()

    # Next time, without her phone: a recovery code instead, once.
    page.get_by_role("button", name="Sign out").click()
    page.get_by_label("Username").fill("nadia")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/accounts/two-factor/"))
    page.get_by_role("link", name="Lost your phone? Use a recovery code").click()
    page.get_by_label("Recovery code").fill(codes[0])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")
    assert page.get_by_text("Recovery code used; 9 left").is_visible()
    assert page.get_by_role("link", name="Patients").is_visible()
    assert not page.console_errors, page.console_errors

    from palpate.audit.models import AuditEvent

    actions = set(AuditEvent.objects.filter(clinic=world.harbor).values_list("action", flat=True))
    assert {"invitation.create", "invitation.accept", "account.signed_in", "account.two_factor_enabled",
            "account.two_factor_passed", "account.signed_out"} <= actions


def test_the_api_docs_render_from_palpates_own_files_under_the_strict_policy(live_server, live_db, world, page):
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    sign_in(page, live_server.url, "alice", "correct horse battery")
    page.goto(f"{live_server.url}/api/docs")
    page.locator(".opblock").first.wait_for()
    assert page.get_by_text("/api/patients", exact=True).first.is_visible()
    assert all(url.startswith(live_server.url) for url in requests), [u for u in requests if not u.startswith(live_server.url)]
    assert not page.console_errors, page.console_errors
