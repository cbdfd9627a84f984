"""A person's own account: change and reset a password, two-factor recovery codes, their sessions,
and an owner turning the clinic's two-factor requirement off only with their password again."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from palpate.accounts.models import RecoveryCode, RecoveryCodeDevice, SignedInSession, recovery_code_digest
from palpate.audit.models import AuditEvent

RIGHT = "correct horse battery"
NEW = "a much longer new password"


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("clinic_id", "seq"))


def signed_in(username: str, password: str = RIGHT) -> Client:
    client = Client()
    assert client.post("/accounts/login/", {"username": username, "password": password}).status_code == 302
    return client


@pytest.fixture(autouse=True)
def base_url(settings):  # noqa: ANN001, ANN201
    settings.PALPATE_BASE_URL = "https://palpate.example.org"


# -- changing a password ---------------------------------------------------------------------------


def test_a_new_password_must_pass_djangos_validators(world):
    client = signed_in("alice")
    response = client.post("/accounts/password/", {"old_password": RIGHT, "new_password1": "password",
                                                   "new_password2": "password"})
    body = response.content.decode()
    assert response.status_code == 200 and "too short" in body and "too common" in body
    world.alice.refresh_from_db()
    assert world.alice.check_password(RIGHT)


def test_changing_the_password_keeps_this_session_and_ends_the_others(world):
    here, elsewhere = signed_in("alice"), signed_in("alice")
    response = here.post("/accounts/password/", {"old_password": RIGHT, "new_password1": NEW, "new_password2": NEW})
    assert response.status_code == 302
    assert here.get("/patients/").status_code == 200
    assert elsewhere.get("/patients/").status_code == 302
    assert [e.clinic_id for e in events("account.password_changed")] == [world.harbor.pk]


def test_a_wrong_old_password_changes_nothing(world):
    client = signed_in("alice")
    body = client.post("/accounts/password/", {"old_password": "nope", "new_password1": NEW,
                                               "new_password2": NEW}).content.decode()
    assert "old password was entered incorrectly" in body
    world.alice.refresh_from_db()
    assert world.alice.check_password(RIGHT)


# -- resetting a forgotten password ----------------------------------------------------------------


def _reset_link(mailoutbox) -> str:  # noqa: ANN001
    match = re.search(r"https://palpate\.example\.org(/accounts/reset/\S+/\S+/)", mailoutbox[-1].body)
    assert match, mailoutbox[-1].body
    return match.group(1)


def test_the_answer_is_the_same_whether_or_not_an_account_has_the_address(world, client, mailoutbox):
    world.alice.email = "alice@example.org"
    world.alice.save()
    known = client.post("/accounts/password-reset/", {"email": "Alice@Example.org"})
    unknown = client.post("/accounts/password-reset/", {"email": "stranger@example.org"})
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"] == "/accounts/password-reset/sent/"
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["alice@example.org"]
    assert "https://palpate.example.org/accounts/reset/" in mailoutbox[0].body, "links use the configured address"


def test_a_reset_link_sets_a_password_once_ends_sessions_and_lifts_a_lockout(world, client, mailoutbox, settings):
    world.alice.email = "alice@example.org"
    world.alice.save()
    elsewhere = signed_in("alice")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/accounts/login/", {"username": "alice", "password": "guess"})
    client.post("/accounts/password-reset/", {"email": "alice@example.org"})
    link = _reset_link(mailoutbox)
    form_url = client.get(link)["Location"]  # Django moves the token out of the address bar
    assert client.post(form_url, {"new_password1": NEW, "new_password2": NEW}).status_code == 302
    assert elsewhere.get("/patients/").status_code == 302, "the old sessions ended"
    assert signed_in("alice", NEW).get("/patients/").status_code == 200, "the lockout was lifted"
    used_again = Client().get(link, follow=True).content.decode()
    assert "This link no longer works" in used_again
    assert len(events("account.password_reset")) == 1


def test_a_reset_link_expires(world, client, mailoutbox, settings):
    from django.contrib.auth.tokens import default_token_generator

    world.alice.email = "alice@example.org"
    world.alice.save()
    client.post("/accounts/password-reset/", {"email": "alice@example.org"})
    link = _reset_link(mailoutbox)
    later = default_token_generator._now().timestamp() + settings.PASSWORD_RESET_TIMEOUT + 60
    from datetime import datetime
    from unittest import mock

    with mock.patch.object(type(default_token_generator), "_now", lambda self: datetime.fromtimestamp(later)):
        assert "This link no longer works" in client.get(link, follow=True).content.decode()


# -- two-factor recovery codes ---------------------------------------------------------------------


def _enrol(client, user) -> list[str]:  # noqa: ANN001
    """Set up the authenticator from the secret shown on the page; returns the recovery codes shown."""
    import base64

    from django_otp.oath import TOTP

    page = client.get("/accounts/two-factor/").content.decode()
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    response = client.post("/accounts/two-factor/", {"token": f"{TOTP(key).token():06d}", "next": "/patients/"})
    return re.findall(r"<li><code>([0-9A-Z-]+)</code></li>", response.content.decode())


def test_enrolment_shows_ten_recovery_codes_once_and_stores_only_their_hashes(world):
    client = signed_in("alice")
    codes = _enrol(client, world.alice)
    assert len(codes) == 10 and len(set(codes)) == 10 and all(re.fullmatch(r"(\w{4}-){3}\w{4}", c) for c in codes)
    stored = set(RecoveryCode.objects.values_list("digest", flat=True))
    assert stored == {recovery_code_digest(c) for c in codes}
    assert not any(c.replace("-", "") in d.upper() for c in codes for d in stored)
    assert "Save your recovery codes" not in client.get("/accounts/").content.decode()
    assert "10 recovery codes left" in client.get("/accounts/").content.decode()
    [enabled] = events("account.two_factor_enabled")
    assert enabled.new == {"recovery_codes": 10}


def test_a_recovery_code_signs_in_once(world):
    codes = _enrol(signed_in("alice"), world.alice)
    client = signed_in("alice")
    assert client.get("/patients/")["Location"].startswith("/accounts/two-factor/")
    typed = codes[3].lower().replace("-", " ")  # as someone might type it
    response = client.post("/accounts/two-factor/recovery/", {"code": typed, "next": "/patients/"})
    assert response.status_code == 302 and response["Location"] == "/patients/"
    assert client.get("/patients/").status_code == 200
    again = signed_in("alice")
    refused = again.post("/accounts/two-factor/recovery/", {"code": codes[3]})
    assert refused.status_code == 200 and "not valid or was already used" in refused.content.decode()
    passed = [e.new for e in events("account.two_factor_passed")]
    assert passed == [{"with": "recovery code", "recovery_codes_left": 9}]
    assert [e.new for e in events("account.two_factor_failed")] == [{"with": "recovery code"}]


def test_new_recovery_codes_need_the_password_and_retire_the_old_ones(world):
    from django_otp import DEVICE_ID_SESSION_KEY

    codes = _enrol(signed_in("alice"), world.alice)
    client = signed_in("alice")
    client.post("/accounts/two-factor/recovery/", {"code": codes[0]})
    assert DEVICE_ID_SESSION_KEY in client.session
    refused = client.post("/accounts/recovery-codes/", {"password": "nope"})
    assert "not your current password" in refused.content.decode()
    fresh = re.findall(r"<li><code>([0-9A-Z-]+)</code></li>",
                       client.post("/accounts/recovery-codes/", {"password": RIGHT}).content.decode())
    assert len(fresh) == 10 and not set(fresh) & set(codes)
    device = RecoveryCodeDevice.objects.get(user=world.alice)
    assert device.verify_token(fresh[1])
    assert not device.verify_token(codes[1])  # (a wrong code also makes the next try wait: throttled)
    assert len(events("account.recovery_codes_renewed")) == 1


# -- sessions --------------------------------------------------------------------------------------


def test_the_sessions_page_lists_mine_and_signs_out_everywhere(world):
    here = Client()
    here.post("/accounts/login/", {"username": "alice", "password": RIGHT}, HTTP_USER_AGENT="Firefox on a tablet")
    elsewhere = Client()
    elsewhere.post("/accounts/login/", {"username": "alice", "password": RIGHT, "remember": "on"},
                   HTTP_USER_AGENT="Chrome at the front desk")
    signed_in("bob")
    page = here.get("/accounts/sessions/").content.decode()
    assert "Firefox on a tablet" in page and "Chrome at the front desk" in page and "(this device)" in page
    assert page.count("<tr><td>") == 2, "only her own sessions"
    response = here.post("/accounts/sessions/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert here.get("/patients/").status_code == 302 and elsewhere.get("/patients/").status_code == 302
    assert not SignedInSession.objects.filter(user=world.alice, ended_at__isnull=True).exists()
    assert len(events("account.signed_out_everywhere")) == 1
    assert signed_in("alice").get("/accounts/sessions/").content.decode().count("<tr><td>") == 1


def test_a_signed_out_session_leaves_the_list(world):
    client = signed_in("alice")
    other = signed_in("alice")
    other.post("/accounts/logout/")
    assert client.get("/accounts/sessions/").content.decode().count("<tr><td>") == 1


# -- the clinic's two-factor requirement -----------------------------------------------------------


SETTINGS = {"name": "Harbor Physical Therapy", "idle_timeout_minutes": "15", "session_max_hours": "12",
            "payer_unit_rule": "cms"}


def test_turning_the_two_factor_requirement_off_asks_for_the_owners_password(world, as_user):
    world.harbor.require_two_factor = True
    world.harbor.save()
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client = as_user(world.olivia)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = TOTPDevice.objects.create(user=world.olivia, name="p", confirmed=True).persistent_id
    session.save()
    refused = client.post("/clinics/settings/", SETTINGS)
    assert refused.status_code == 200 and "Enter your password to turn off" in refused.content.decode()
    wrong = client.post("/clinics/settings/", {**SETTINGS, "confirm_password": "nope"})
    assert "That is not your password" in wrong.content.decode()
    world.harbor.refresh_from_db()
    assert world.harbor.require_two_factor
    assert client.post("/clinics/settings/", {**SETTINGS, "confirm_password": RIGHT}).status_code == 302
    world.harbor.refresh_from_db()
    assert not world.harbor.require_two_factor
    [event] = events("clinic.settings")
    assert event.new == {"require_two_factor": False, "password_confirmed": True}


def test_turning_it_on_or_changing_other_settings_needs_no_password(world, as_user):
    client = as_user(world.olivia)
    assert client.post("/clinics/settings/", {**SETTINGS, "require_two_factor": "on", "session_max_hours": "8",
                                              "phone": "555-0100"}).status_code == 302
    world.harbor.refresh_from_db()
    assert world.harbor.require_two_factor and world.harbor.session_max_hours == 8 and world.harbor.phone == "555-0100"


def test_the_absolute_limit_has_bounds(world, as_user):
    body = as_user(world.olivia).post("/clinics/settings/", {**SETTINGS, "session_max_hours": "48"}).content.decode()
    assert "less than or equal to 24" in body


def test_whoever_runs_the_server_can_reset_a_lost_second_factor_and_it_is_audited(world):
    from django.core.management import call_command
    from django.core.management.base import CommandError
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.create(user=world.olivia, name="lost phone", confirmed=True)
    call_command("reset_two_factor", "olivia")
    assert not TOTPDevice.objects.filter(user=world.olivia).exists()
    [event] = events("account.two_factor_reset")
    assert event.clinic_id == world.harbor.pk and event.new == {"by": "the command line", "devices_removed": 1}
    with pytest.raises(CommandError, match="No account is called 'nobody'"):
        call_command("reset_two_factor", "nobody")
