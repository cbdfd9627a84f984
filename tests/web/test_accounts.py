from __future__ import annotations

import time

import pytest
from django.test import override_settings

from palpate.clinics.middleware import SESSION_KEY
from palpate.clinics.models import Membership
from palpate.clinics.roles import Role


def test_the_login_page_has_username_and_password_fields(client, db):
    body = client.get("/accounts/login/").content.decode()
    assert 'name="username"' in body and 'name="password"' in body


@override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.Argon2PasswordHasher"])
def test_passwords_are_stored_with_argon2(db):
    from tests.personas import make_user

    assert make_user("hashcheck").password.startswith("argon2")


def test_a_right_password_signs_in_and_lands_on_today(world, client):
    response = client.post("/accounts/login/", {"username": "alice", "password": "correct horse battery"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").status_code == 200


def test_a_wrong_password_says_so_and_keeps_the_username(world, client):
    response = client.post("/accounts/login/", {"username": "alice", "password": "nope"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "did not match" in body
    assert 'value="alice"' in body


def test_repeated_failures_lock_the_account_even_for_the_right_password(world, client, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/accounts/login/", {"username": "alice", "password": "wrong"})
    response = client.post("/accounts/login/", {"username": "alice", "password": "correct horse battery"})
    assert response.status_code in (403, 429)
    assert "Too many failed sign-ins" in response.content.decode()
    assert client.get("/patients/").status_code == 302


def test_an_idle_session_is_signed_out_after_the_clinics_timeout(world, as_user):
    world.harbor.idle_timeout_minutes = 5
    world.harbor.save()
    client = as_user(world.alice)
    assert client.get("/patients/").status_code == 200
    session = client.session
    session["last_seen"] = time.time() - 6 * 60
    session.save()
    response = client.get("/patients/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert client.get("/patients/").status_code == 302, "the session must really be ended"


def test_activity_within_the_timeout_keeps_the_session(world, as_user):
    client = as_user(world.alice)
    client.get("/patients/")
    session = client.session
    session["last_seen"] = time.time() - 14 * 60
    session.save()
    assert client.get("/patients/").status_code == 200


def test_a_clinic_that_requires_two_factor_sends_members_to_set_it_up(world, as_user):
    world.harbor.require_two_factor = True
    world.harbor.save()
    client = as_user(world.alice)
    response = client.get("/patients/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/two-factor/")
    page = client.get("/accounts/two-factor/").content.decode()
    assert "Set up two-factor" in page and "<svg" in page


def test_a_valid_totp_code_completes_two_factor_and_opens_the_app(world, as_user):
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    world.harbor.require_two_factor = True
    world.harbor.save()
    client = as_user(world.alice)
    client.get("/accounts/two-factor/")
    device = TOTPDevice.objects.get(user=world.alice)
    wrong = client.post("/accounts/two-factor/", {"token": "000000" if totp(device.bin_key) != 0 else "111111"})
    assert "did not match" in wrong.content.decode()
    throttled = client.post("/accounts/two-factor/", {"token": "123456"})
    assert "Too many wrong codes" in throttled.content.decode()
    device.refresh_from_db()
    device.throttle_reset()
    code = f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"
    response = client.post("/accounts/two-factor/", {"token": code, "next": "/patients/"})
    # Set up: the recovery codes are shown once, then the person continues where they were going.
    assert response.status_code == 200 and "Save your recovery codes" in response.content.decode()
    assert 'href="/patients/"' in response.content.decode()
    assert client.get("/patients/").status_code == 200
    device.refresh_from_db()
    assert device.confirmed


def test_a_user_with_two_clinics_switches_between_them(world, as_user):
    Membership.objects.create(clinic=world.summit, user=world.alice, role=Role.THERAPIST)
    client = as_user(world.alice)
    assert "Garcia" in client.get("/patients/").content.decode()
    client.post("/clinics/switch/", {"clinic": world.summit.pk})
    assert client.session[SESSION_KEY] == world.summit.pk
    body = client.get("/patients/").content.decode()
    assert "Rossi" in body and "Garcia" not in body
    # Harbor's patient is now out of scope: 404 until she switches back.
    assert client.get(f"/patients/{world.harbor_patient.pk}/").status_code == 404


def test_switching_to_a_clinic_you_do_not_belong_to_is_refused(world, as_user):
    client = as_user(world.alice)
    client.post("/clinics/switch/", {"clinic": world.summit.pk})
    assert client.session[SESSION_KEY] == world.harbor.pk


@pytest.mark.parametrize("path", ["/accounts/logout/"])
def test_sign_out_needs_a_post(world, as_user, path):
    client = as_user(world.alice)
    assert client.get(path).status_code == 405
    assert client.post(path).status_code == 302
    assert client.get("/patients/").status_code == 302


def test_a_user_can_turn_on_two_factor_without_the_clinic_requiring_it(world, as_user):
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client = as_user(world.bob)
    assert "Set up two-factor sign-in" in client.get("/accounts/").content.decode()
    client.get("/accounts/two-factor/")
    device = TOTPDevice.objects.get(user=world.bob)
    code = f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"
    client.post("/accounts/two-factor/", {"token": code})
    assert "On: you confirm each sign-in" in client.get("/accounts/").content.decode()
    # From now on a fresh sign-in asks for the code.
    client.logout()
    client.force_login(world.bob)
    assert client.get("/patients/")["Location"].startswith("/accounts/two-factor/")
