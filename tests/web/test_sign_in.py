"""Signing in: lockout per account whatever the address and per address, the client address from a
trusted header only, the cookie's life, the absolute session limit, and every sign-in event in the
trail of each clinic of the account."""

from __future__ import annotations

import time

import pytest
from django.test import Client, RequestFactory

from palpate.audit.models import AuditEvent
from palpate.clinics.models import Membership
from palpate.clinics.roles import Role
from palpate.lib.decorators import client_ip

RIGHT = "correct horse battery"


def sign_in(client, username: str, password: str, address: str = "10.0.0.1", **extra):  # noqa: ANN001, ANN201
    return client.post("/accounts/login/", {"username": username, "password": password, **extra},
                       REMOTE_ADDR=address)


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("clinic_id", "seq"))


# -- lockout ---------------------------------------------------------------------------------------


def test_guesses_spread_over_many_addresses_still_lock_the_account(world, client, settings):
    # The probe: 40 guesses over 10 addresses all went through when only username+address was locked.
    answers = [sign_in(client, "alice", f"guess {guess}", address=f"198.51.100.{guess + 1}").status_code
               for guess in range(settings.AXES_FAILURE_LIMIT)]
    assert answers == [200] * (settings.AXES_FAILURE_LIMIT - 1) + [429], "the last failure locks"
    refused = sign_in(client, "alice", RIGHT, address="203.0.113.77")
    assert refused.status_code == 429 and "Too many failed sign-ins" in refused.content.decode()
    assert client.get("/patients/").status_code == 302
    # Another account is not affected.
    assert sign_in(Client(), "bob", RIGHT, address="203.0.113.77").status_code == 302


def test_one_address_trying_many_accounts_is_locked_at_its_own_limit(world, client, settings):
    settings.PALPATE_LOGIN_FAILURE_LIMIT_PER_ADDRESS = 8
    for n in range(8):
        sign_in(client, f"nobody{n}", "x", address="192.0.2.50")
    assert sign_in(client, "bob", RIGHT, address="192.0.2.50").status_code == 429
    assert sign_in(Client(), "bob", RIGHT, address="192.0.2.51").status_code == 302


def test_signing_in_as_yourself_does_not_reset_a_colleagues_failures(world, client, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, "alice", "guess", address="10.1.1.1")
    assert sign_in(Client(), "bob", RIGHT, address="10.1.1.1").status_code == 302
    sign_in(client, "alice", "one more guess", address="10.1.1.1")
    assert sign_in(client, "alice", RIGHT, address="10.9.9.9").status_code == 429


def test_a_successful_sign_in_clears_that_accounts_failures(world, client, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, "alice", "typo")
    assert sign_in(client, "alice", RIGHT).status_code == 302
    client.post("/accounts/logout/")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, "alice", "typo")
    assert sign_in(client, "alice", RIGHT).status_code == 302


# -- the client's address --------------------------------------------------------------------------


def test_the_address_is_remote_addr_and_a_forwarded_header_is_ignored_unless_configured(settings):
    request = RequestFactory().get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6")
    settings.PALPATE_CLIENT_IP_META = ""
    assert client_ip(request) == "127.0.0.1"


def test_behind_a_proxy_only_the_entry_the_proxy_wrote_counts(settings):
    settings.PALPATE_CLIENT_IP_META = "HTTP_X_FORWARDED_FOR"
    settings.PALPATE_TRUSTED_PROXIES = 1
    factory = RequestFactory()
    # The client forged the first entry; our proxy appended the address it really saw.
    forged = factory.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9")
    assert client_ip(forged) == "203.0.113.9"
    settings.PALPATE_TRUSTED_PROXIES = 2
    assert client_ip(forged) == "6.6.6.6"
    assert client_ip(factory.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.9")) is None
    # No header: the request did not come through the proxy (a local probe).
    assert client_ip(factory.get("/", REMOTE_ADDR="127.0.0.1")) == "127.0.0.1"
    assert client_ip(factory.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="not an address")) is None


def test_the_environment_names_the_header(tmp_path):
    import json
    import os
    import subprocess
    import sys

    env = {**os.environ, "PALPATE_DATA_DIR": str(tmp_path), "PALPATE_CLIENT_IP_HEADER": "X-Real-IP",
           "DJANGO_SETTINGS_MODULE": "palpate.web.settings"}
    env.pop("DATABASE_URL", None)
    code = ("import json; from django.conf import settings as s; "
            "print(json.dumps([s.PALPATE_CLIENT_IP_META, s.PALPATE_TRUSTED_PROXIES, s.AXES_CLIENT_IP_CALLABLE]))")
    done = subprocess.run([sys.executable, "-c", "import django; django.setup(); " + code], env=env,
                          capture_output=True, text=True, check=True)
    assert json.loads(done.stdout.strip().splitlines()[-1]) == ["HTTP_X_REAL_IP", 1, "palpate.lib.decorators.client_ip"]


def test_lockout_counts_the_proxied_address(world, settings):
    settings.PALPATE_CLIENT_IP_META = "HTTP_X_FORWARDED_FOR"
    settings.PALPATE_LOGIN_FAILURE_LIMIT_PER_ADDRESS = 3
    client = Client()
    for n in range(3):
        client.post("/accounts/login/", {"username": f"x{n}", "password": "x"}, REMOTE_ADDR="127.0.0.1",
                    HTTP_X_FORWARDED_FOR="203.0.113.5")
    blocked = client.post("/accounts/login/", {"username": "bob", "password": RIGHT}, REMOTE_ADDR="127.0.0.1",
                          HTTP_X_FORWARDED_FOR="203.0.113.5")
    assert blocked.status_code == 429
    other = Client().post("/accounts/login/", {"username": "bob", "password": RIGHT}, REMOTE_ADDR="127.0.0.1",
                          HTTP_X_FORWARDED_FOR="203.0.113.6")
    assert other.status_code == 302, "the proxy's own address is not what is counted"


# -- the cookie and the session's life -------------------------------------------------------------


def test_the_cookie_ends_with_the_browser_unless_kept_on_this_device(world, settings):
    plain = Client()
    sign_in(plain, "alice", RIGHT)
    assert plain.cookies["sessionid"]["max-age"] == "" and plain.cookies["sessionid"]["expires"] == ""
    kept = Client()
    sign_in(kept, "bob", RIGHT, remember="on")
    assert int(kept.cookies["sessionid"]["max-age"]) == 12 * 3600


def test_a_session_ends_at_the_clinics_absolute_limit_however_active(world, as_user):
    world.harbor.session_max_hours = 2
    world.harbor.save()
    client = Client()
    sign_in(client, "alice", RIGHT)
    assert client.get("/patients/").status_code == 200
    session = client.session
    session["signed_in_at"] = time.time() - 2 * 3600 - 5
    session["last_seen"] = time.time() - 10  # active a moment ago
    session.save()
    response = client.get("/patients/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert client.get("/patients/").status_code == 302
    [ended] = events("account.session_ended")
    assert ended.new == {"reason": "absolute limit"} and ended.actor == world.alice


def test_the_api_answers_an_ended_session_with_401(world, client):
    sign_in(client, "alice", RIGHT)
    session = client.session
    session["signed_in_at"] = time.time() - 13 * 3600
    session.save()
    assert client.get("/api/patients").status_code == 401


# -- sign-in events in the trail -------------------------------------------------------------------


def test_sign_in_failure_lockout_and_sign_out_are_audited_once_each(world, client, settings):
    sign_in(client, "alice", RIGHT)
    client.post("/accounts/logout/")
    for _ in range(settings.AXES_FAILURE_LIMIT + 3):
        sign_in(client, "alice", "wrong")
    assert [e.new for e in events("account.signed_in")] == [{"remember": False, "second_factor_next": False}]
    assert len(events("account.signed_out")) == 1
    assert len(events("account.sign_in_failed")) == settings.AXES_FAILURE_LIMIT - 1
    [locked] = events("account.locked_out")  # once, not for every try against the lock
    assert locked.new == {"by": "account"} and locked.ip_address == "10.0.0.1" and locked.clinic_id == world.harbor.pk


def test_an_account_in_two_clinics_is_audited_in_both_and_one_in_none_nowhere(world, client):
    from tests.personas import make_user

    Membership.objects.create(clinic=world.summit, user=world.alice, role=Role.THERAPIST)
    sign_in(client, "alice", RIGHT)
    assert sorted(e.clinic_id for e in events("account.signed_in")) == sorted([world.harbor.pk, world.summit.pk])
    make_user("loner")
    assert sign_in(Client(), "loner", RIGHT).status_code == 302
    assert sign_in(Client(), "no-such-person", "x").status_code == 200
    assert len(events("account.signed_in")) == 2 and not events("account.sign_in_failed")


def test_two_factor_events_are_audited(world, client):
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.create(user=world.alice, name="phone", confirmed=True)
    sign_in(client, "alice", RIGHT)
    client.post("/accounts/two-factor/", {"token": "000000" if totp(device.bin_key) != 0 else "111111"})
    device.refresh_from_db()
    device.throttle_reset()
    code = f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"
    assert client.post("/accounts/two-factor/", {"token": code}).status_code == 302
    assert [e.new for e in events("account.two_factor_failed")] == [{"with": "authenticator"}]
    assert [e.new for e in events("account.two_factor_passed")] == [{"with": "authenticator"}]
    assert events("account.signed_in")[0].new["second_factor_next"] is True


@pytest.mark.parametrize("path", ["/patients/{p}/", "/patients/{p}/evaluations/referrals/", "/api/patients/{p}"])
def test_a_member_refused_a_patient_url_leaves_a_denied_event_in_their_own_clinics_trail(world, as_user, path):
    url = path.format(p=world.harbor_patient.pk)
    response = as_user(world.charlie).get(url)
    assert response.status_code == 404
    [denied] = events("access.denied")
    assert denied.clinic_id == world.summit.pk and denied.actor == world.charlie
    assert denied.patient_id is None, "another clinic's patient is not named in Summit's trail"
    assert denied.new == {"method": "GET", "path": url, "status": 404}
    assert not AuditEvent.objects.filter(clinic=world.harbor, action="access.denied").exists()


def test_a_role_refused_on_its_own_clinics_patient_names_the_patient(world, as_user):
    url = f"/patients/{world.harbor_patient.pk}/evaluations/referrals/"
    assert as_user(world.fran).get(url).status_code == 403
    [denied] = events("access.denied")
    assert denied.clinic_id == world.harbor.pk and denied.patient_id == world.harbor_patient.pk
    assert denied.new["status"] == 403


def test_a_form_sent_without_a_password_is_not_a_failed_sign_in(world, client):
    assert client.post("/accounts/login/", {"username": "alice", "password": ""}).status_code == 200
    assert not events("account.sign_in_failed")
