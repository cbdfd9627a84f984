"""Patient sign-in: its own door, its own session, a lockout; never a staff account, never a staff page."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from palpate.accounts.models import User
from palpate.audit.models import AuditEvent
from palpate.clinics.models import Membership
from palpate.portal.models import PortalAccount
from tests.portal.conftest import PATIENT_PASSWORD, make_account


def test_an_invitation_sets_a_password_once_and_signs_the_patient_in(world, as_user, client,
                                                                     django_capture_on_commit_callbacks):
    staff = as_user(world.alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(f"/patients/{world.harbor_patient.pk}/portal/access/",
                              {"action": "invite", "email": "Maria@Example.org"})
    assert response.status_code == 302
    account = PortalAccount.objects.get(patient=world.harbor_patient)
    assert account.email == "maria@example.org" and not account.has_password
    assert not User.objects.filter(email="maria@example.org").exists()  # never a staff user
    url = re.search(r"http://testserver(/portal/welcome/\S+/)", mail.outbox[-1].body).group(1)
    staff.logout()
    assert client.get(url).status_code == 200
    weak = client.post(url, {"password": "short", "again": "short"})
    assert weak.status_code == 200 and b"too short" in weak.content
    done = client.post(url, {"password": PATIENT_PASSWORD, "again": PATIENT_PASSWORD})
    assert done.status_code == 302 and done["Location"] == "/portal/"
    assert client.get("/portal/").status_code == 200
    assert client.get(url).status_code == 410  # used
    assert AuditEvent.objects.filter(action="portal.invite", patient_id=world.harbor_patient.pk).exists()


def test_a_new_invitation_makes_the_old_link_stop_working(world, as_user, client, django_capture_on_commit_callbacks):
    staff = as_user(world.alice)
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            staff.post(f"/patients/{world.harbor_patient.pk}/portal/access/", {"action": "invite", "email": "m@example.org"})
    first, second = (re.search(r"(/portal/welcome/\S+/)", m.body).group(1) for m in mail.outbox[-2:])
    staff.logout()
    assert client.get(first).status_code == 410
    assert client.get(second).status_code == 200


def test_the_email_of_another_patient_of_the_clinic_is_refused_with_a_reason(world, as_user):
    from palpate.patients.models import Patient

    other = Patient.objects.create(clinic=world.harbor, record_number="X1", given_name="Ana", family_name="Garcia",
                                   date_of_birth="1990-01-01", sex="female")
    make_account(other, email="shared@example.org")
    response = as_user(world.alice).post(f"/patients/{world.harbor_patient.pk}/portal/access/",
                                         {"action": "invite", "email": "shared@example.org"})
    assert response.status_code == 200 and b"needs their own email address" in response.content


def test_wrong_passwords_lock_the_sign_in_even_for_the_right_one(portal, client, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(3):
        response = client.post("/portal/harbor/sign-in/", {"email": "maria@example.org", "password": "wrong one!"})
    assert b"paused until" in response.content
    locked = client.post("/portal/harbor/sign-in/", {"email": "maria@example.org", "password": PATIENT_PASSWORD})
    assert locked.status_code == 200 and b"paused until" in locked.content
    assert client.get("/portal/").status_code != 200 or b"Hello" not in client.get("/portal/").content


def test_an_unknown_email_is_answered_like_a_wrong_password(portal, client):
    unknown = client.post("/portal/harbor/sign-in/", {"email": "nobody@example.org", "password": PATIENT_PASSWORD})
    wrong = client.post("/portal/harbor/sign-in/", {"email": "maria@example.org", "password": "not it at all"})
    assert b"do not match" in unknown.content and b"do not match" in wrong.content


def test_the_sign_in_of_one_clinic_does_not_know_another_clinics_patients(portal, client):
    response = client.post("/portal/summit/sign-in/", {"email": "maria@example.org", "password": PATIENT_PASSWORD})
    assert b"do not match" in response.content


def test_a_patient_signs_out_and_their_session_is_gone(patient_client):
    assert b"Hello, Maria" in patient_client.get("/portal/").content
    patient_client.post("/portal/sign-out/")
    assert AuditEvent.objects.filter(action="portal.sign_out").exists()
    response = patient_client.get("/portal/")
    assert response.status_code == 302 and response["Location"].startswith("/portal/harbor/sign-in/")


def test_a_patients_credentials_are_no_key_to_the_staff_sign_in(portal, client):
    response = client.post("/accounts/login/", {"username": "maria@example.org", "password": PATIENT_PASSWORD})
    assert response.status_code == 200  # the form again: not signed in
    assert client.get("/patients/").status_code == 302


@pytest.mark.parametrize("path", ["/", "/patients/", "/patients/{p}/", "/patients/{p}/visits/", "/audit/",
                                  "/clinics/settings/", "/clinics/portal/", "/patients/{p}/portal/access/",
                                  "/patients/{p}/portal/warning-signs/", "/accounts/"])
def test_a_signed_in_patient_never_reaches_a_staff_page(patient_client, portal, path):
    response = patient_client.get(path.format(p=portal.patient.pk))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_a_signed_in_patient_gets_nothing_from_the_staff_api(patient_client, portal):
    assert patient_client.get(f"/api/patients/{portal.patient.pk}").status_code == 401


def test_a_staff_session_is_no_way_into_the_patient_side(portal, as_user):
    staff = as_user(portal.world.alice)
    response = staff.get("/portal/")
    assert b"Hello, Maria" not in response.content
    assert not Membership.objects.filter(user__email="maria@example.org").exists()


def test_the_portal_cookie_is_its_own_and_scoped_to_the_patient_side(portal, client):
    response = client.post("/portal/harbor/sign-in/", {"email": "maria@example.org", "password": PATIENT_PASSWORD})
    cookie = response.cookies["palpate_portal"]
    assert cookie["path"] == "/portal/" and cookie["httponly"] and cookie["samesite"] == "Lax"
    assert "sessionid" not in response.cookies


def test_a_new_password_ends_the_patients_other_sessions(patient_client, portal):
    from django.contrib.auth.hashers import make_password

    PortalAccount.objects.filter(pk=portal.account.pk).update(password=make_password("another long password"))
    response = patient_client.get("/portal/")
    assert response.status_code == 302


def test_the_sign_in_form_needs_its_csrf_token(portal):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post("/portal/harbor/sign-in/", {"email": "maria@example.org", "password": PATIENT_PASSWORD})
    assert response.status_code == 403
