"""Staff administration: owners invite colleagues, change roles, deactivate members and reset a lost
second factor, all audited; a clinic always keeps an active owner; another clinic's member is a 404."""

from __future__ import annotations

import datetime as dt
import hashlib
import re

import pytest
from django.test import Client
from django.utils import timezone

from palpate.accounts.models import User
from palpate.audit.models import AuditEvent
from palpate.clinics.models import Invitation, Membership
from palpate.clinics.roles import Role

INVITE = {"email": "dana.new@example.org", "first_name": "Dina", "last_name": "Novak", "role": "therapist"}
PASSWORD = "calf stretch every morning"


def invite(client, mailoutbox, **extra) -> str:  # noqa: ANN001
    """Invite through the staff page; returns the link from the email."""
    response = client.post("/clinics/staff/invite/", {**INVITE, **extra})
    assert response.status_code == 302, response.content.decode()[:2000]
    return link_in(mailoutbox[-1].body)


def link_in(body: str) -> str:
    match = re.search(r"http://testserver(/clinics/join/\d+/[\w-]+/)", body)
    assert match, body
    return match.group(1)


def member_of(world, user) -> Membership:  # noqa: ANN001
    return Membership.objects.get(clinic=world.harbor, user=user)


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("clinic_id", "seq"))


@pytest.fixture(autouse=True)
def base_url(settings):  # noqa: ANN001, ANN201
    settings.PALPATE_BASE_URL = "http://testserver"


# -- who may ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["alice", "bob", "fran", "aubrey"])
def test_only_an_owner_manages_staff(world, as_user, persona):
    client = as_user(getattr(world, persona))
    assert client.get("/clinics/staff/").status_code == 403
    assert client.post("/clinics/staff/invite/", INVITE).status_code == 403
    assert client.post(f"/clinics/staff/{member_of(world, world.bob).pk}/", {"action": "deactivate"}).status_code == 403
    assert member_of(world, world.bob).is_active and not Invitation.objects.exists()


def test_the_staff_page_shows_roles_and_who_has_two_factor_sign_in(world, as_user):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.create(user=world.alice, name="phone", confirmed=True)
    body = as_user(world.olivia).get("/clinics/staff/").content.decode()
    rows = {name: body.split(f">{name}</a>")[1].split("</tr>")[0] for name in ("Alice", "Bob")}
    assert "Therapist" in rows["Alice"] and "<td>On</td>" in rows["Alice"]
    assert "Therapist assistant" in rows["Bob"] and "<strong>Off</strong>" in rows["Bob"]
    assert "Charlie" not in body, "another clinic's staff is never listed"


def test_another_clinics_member_is_a_404_and_stays_untouched(world, as_user):
    charlie = Membership.objects.get(user=world.charlie)
    client = as_user(world.olivia)
    assert client.get(f"/clinics/staff/{charlie.pk}/").status_code == 404
    assert client.post(f"/clinics/staff/{charlie.pk}/", {"action": "deactivate"}).status_code == 404
    charlie.refresh_from_db()
    assert charlie.is_active


# -- invitations -----------------------------------------------------------------------------------


def test_an_invited_colleague_sets_a_password_and_joins_in_the_role(world, as_user, client, mailoutbox):
    link = invite(as_user(world.olivia), mailoutbox)
    assert mailoutbox[-1].to == ["dana.new@example.org"] and "Harbor Physical Therapy" in mailoutbox[-1].subject
    client.logout()
    page = client.get(link)
    assert page.status_code == 200 and "as therapist" in page.content.decode()
    response = client.post(link, {"first_name": "Dina", "last_name": "Novak", "username": "dina",
                                  "password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    dina = User.objects.get(username="dina")
    assert dina.check_password(PASSWORD) and dina.email == "dana.new@example.org"
    assert member_of(world, dina).role == Role.THERAPIST
    [accepted] = events("invitation.accept")
    assert accepted.clinic_id == world.harbor.pk and accepted.actor_id == dina.pk and accepted.new["role"] == "therapist"
    assert client.post("/accounts/login/", {"username": "dina", "password": PASSWORD}).status_code == 302
    assert client.get("/patients/").status_code == 200


def test_the_token_is_stored_only_as_its_hash_and_the_link_works_once(world, as_user, client, mailoutbox):
    link = invite(as_user(world.olivia), mailoutbox)
    token = link.rstrip("/").rsplit("/", 1)[1]
    invitation = Invitation.objects.get()
    assert invitation.token_digest == hashlib.sha256(token.encode()).hexdigest() and token not in invitation.token_digest
    [created] = events("invitation.create")
    assert token not in str(created.new) and created.new["role"] == "therapist"
    client.logout()
    client.post(link, {"first_name": "Dina", "username": "dina", "password1": PASSWORD, "password2": PASSWORD})
    client.logout()
    again = client.get(link)
    assert again.status_code == 410 and "already used" in again.content.decode()
    assert client.post(link, {"first_name": "X", "username": "other", "password1": PASSWORD,
                              "password2": PASSWORD}).status_code == 410
    assert not User.objects.filter(username="other").exists()


def test_a_wrong_token_is_a_404_and_an_expired_link_says_so(world, as_user, client, mailoutbox):
    link = invite(as_user(world.olivia), mailoutbox)
    client.logout()
    assert client.get(link[:-5] + "abcd/").status_code == 404
    Invitation.objects.update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    expired = client.get(link)
    assert expired.status_code == 410 and "expired" in expired.content.decode()


def test_the_new_password_must_pass_the_validators_and_the_form_keeps_what_was_typed(world, as_user, client,
                                                                                   mailoutbox):
    link = invite(as_user(world.olivia), mailoutbox)
    client.logout()
    response = client.post(link, {"first_name": "Dina", "username": "dina", "password1": "short", "password2": "short"})
    body = response.content.decode()
    assert response.status_code == 200 and "too short" in body and 'value="dina"' in body
    assert not User.objects.filter(username="dina").exists() and Invitation.objects.get().state == "pending"


def test_withdrawn_and_resent_invitations_kill_the_old_link(world, as_user, client, mailoutbox):
    owner = as_user(world.olivia)
    first = invite(owner, mailoutbox)
    invitation = Invitation.objects.get()
    assert owner.post(f"/clinics/staff/invitations/{invitation.pk}/resend/").status_code == 302
    second = link_in(mailoutbox[-1].body)
    assert second != first
    owner.post(f"/clinics/staff/invitations/{invitation.pk}/withdraw/")
    client.logout()
    assert client.get(first).status_code == 404, "the first token is gone"
    withdrawn = client.get(second)
    assert withdrawn.status_code == 410 and "withdrawn" in withdrawn.content.decode()
    assert [e.action for e in AuditEvent.objects.filter(action__startswith="invitation.").order_by("seq")] == [
        "invitation.create", "invitation.resend", "invitation.withdraw"]


def test_inviting_a_current_member_or_inviting_twice_is_refused_with_a_reason(world, as_user, mailoutbox):
    world.alice.email = "alice@example.org"
    world.alice.save()
    client = as_user(world.olivia)
    body = client.post("/clinics/staff/invite/", {**INVITE, "email": "ALICE@example.org"}).content.decode()
    assert "already works here" in body
    invite(client, mailoutbox)
    body = client.post("/clinics/staff/invite/", INVITE).content.decode()
    assert "already has an invitation waiting" in body and Invitation.objects.count() == 1


def test_a_failed_email_leaves_the_invitation_and_shows_the_link_once(world, as_user, settings):
    settings.EMAIL_BACKEND = "tests.web.test_staff.BrokenEmail"
    response = as_user(world.olivia).post("/clinics/staff/invite/", INVITE)
    body = response.content.decode()
    assert response.status_code == 200 and "could not be sent" in body and "SMTP is down" in body
    assert "/clinics/join/" in body and Invitation.objects.get().state == "pending"


class BrokenEmail:
    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        pass

    def send_messages(self, messages) -> int:  # noqa: ANN001
        raise ConnectionRefusedError("SMTP is down")


def test_someone_with_an_account_joins_a_second_clinic_after_signing_in(world, client, mailoutbox):
    world.charlie.email = "charlie@example.org"
    world.charlie.save()
    owner = Client()
    owner.force_login(world.olivia)
    link = invite(owner, mailoutbox, email="charlie@example.org", role="assistant")
    page = client.get(link).content.decode()
    assert "You already have a Palpate account (charlie)" in page
    client.force_login(world.bob)
    assert "this invitation is for charlie@example.org" in client.get(link).content.decode()
    client.force_login(world.charlie)
    assert client.post(link).status_code == 302
    assert member_of(world, world.charlie).role == Role.ASSISTANT
    assert Membership.objects.get(clinic=world.summit, user=world.charlie).is_active


# -- roles and deactivation ------------------------------------------------------------------------


def test_an_owner_changes_a_role_and_it_is_audited(world, as_user):
    bob = member_of(world, world.bob)
    response = as_user(world.olivia).post(f"/clinics/staff/{bob.pk}/", {"action": "role", "role": "therapist"})
    assert response.status_code == 302
    bob.refresh_from_db()
    assert bob.role == Role.THERAPIST
    [event] = events("member.role")
    assert event.old == {"role": "assistant"} and event.new == {"role": "therapist"} and event.actor == world.olivia


def test_the_last_active_owner_cannot_be_demoted_or_deactivated(world, as_user):
    olivia = member_of(world, world.olivia)
    client = as_user(world.olivia)
    demoted = client.post(f"/clinics/staff/{olivia.pk}/", {"action": "role", "role": "therapist"})
    assert demoted.status_code == 400 and "only active owner" in demoted.content.decode()
    assert client.post(f"/clinics/staff/{olivia.pk}/", {"action": "deactivate"}).status_code == 400
    olivia.refresh_from_db()
    assert olivia.role == Role.OWNER and olivia.is_active
    # With a second owner she may step down; then the second one is the last and stays.
    alice = member_of(world, world.alice)
    client.post(f"/clinics/staff/{alice.pk}/", {"action": "role", "role": "owner"})
    assert client.post(f"/clinics/staff/{olivia.pk}/", {"action": "role", "role": "therapist"}).status_code == 302
    olivia.refresh_from_db()
    assert olivia.role == Role.THERAPIST
    alice_client = Client()
    alice_client.force_login(world.alice)
    assert alice_client.post(f"/clinics/staff/{alice.pk}/", {"action": "deactivate"}).status_code == 400


def test_the_service_counts_owners_under_a_lock_so_two_demotions_cannot_both_pass(world):
    from django.core.exceptions import ValidationError

    from palpate.clinics import staff
    from palpate.clinics.actor import Actor

    alice = member_of(world, world.alice)
    alice.role = Role.OWNER
    alice.save()
    as_olivia = Actor.of(member_of(world, world.olivia))
    as_alice = Actor.of(member_of(world, world.alice))
    staff.do_change_role(as_olivia, alice, Role.THERAPIST)
    with pytest.raises(ValidationError, match="only active owner"):
        staff.do_change_role(as_alice, member_of(world, world.olivia), Role.THERAPIST)
    assert Membership.objects.filter(clinic=world.harbor, role=Role.OWNER, is_active=True).count() == 1


def test_deactivation_takes_effect_at_once_and_ends_the_members_sessions(world, as_user):
    bob_browser = Client()
    bob_browser.force_login(world.bob)
    assert bob_browser.get("/patients/").status_code == 200
    bob = member_of(world, world.bob)
    assert as_user(world.olivia).post(f"/clinics/staff/{bob.pk}/", {"action": "deactivate"}).status_code == 302
    response = bob_browser.get("/patients/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    bob.refresh_from_db()
    assert not bob.is_active
    [event] = events("member.deactivate")
    assert event.new == {"is_active": False, "sessions_ended": True}
    # Signing in again does not bring the clinic back.
    bob_browser.post("/accounts/login/", {"username": "bob", "password": "correct horse battery"})
    assert bob_browser.get("/patients/").status_code == 403
    as_user(world.olivia).post(f"/clinics/staff/{bob.pk}/", {"action": "reactivate"})
    assert bob_browser.get("/patients/").status_code == 200


# -- a lost phone, a lockout -----------------------------------------------------------------------


def test_an_owner_resets_a_colleagues_second_factor_and_every_clinic_of_theirs_hears_of_it(world, as_user):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from palpate.accounts.models import RecoveryCodeDevice

    Membership.objects.create(clinic=world.summit, user=world.alice, role=Role.THERAPIST)
    TOTPDevice.objects.create(user=world.alice, name="phone", confirmed=True)
    RecoveryCodeDevice.objects.create(user=world.alice, name="codes", confirmed=True)
    alice_browser = Client()
    alice_browser.force_login(world.alice)
    alice = member_of(world, world.alice)
    assert as_user(world.olivia).post(f"/clinics/staff/{alice.pk}/", {"action": "reset_two_factor"}).status_code == 302
    assert not TOTPDevice.objects.filter(user=world.alice).exists()
    assert not RecoveryCodeDevice.objects.filter(user=world.alice).exists()
    assert alice_browser.get("/patients/")["Location"].startswith("/accounts/login/"), "her sessions ended"
    [reset] = events("member.two_factor_reset")
    assert reset.clinic_id == world.harbor.pk and reset.actor == world.olivia and reset.new == {"devices_removed": 2}
    [told] = events("account.two_factor_reset")
    assert told.clinic_id == world.summit.pk and told.new == {"by": "olivia", "clinic": "Harbor Physical Therapy"}


def test_an_owner_cannot_reset_their_own_second_factor_from_the_staff_page(world, client):
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.create(user=world.olivia, name="phone", confirmed=True)
    client.force_login(world.olivia)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id  # she passed her second factor
    session.save()
    refused = client.post(f"/clinics/staff/{member_of(world, world.olivia).pk}/", {"action": "reset_two_factor"})
    assert refused.status_code == 403 and "your own two-factor" in refused.content.decode()
    assert TOTPDevice.objects.filter(user=world.olivia).exists()


def test_an_owner_lifts_a_colleagues_lockout(world, as_user, client, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/accounts/login/", {"username": "bob", "password": "wrong"})
    assert client.post("/accounts/login/", {"username": "bob", "password": "correct horse battery"}).status_code == 429
    owner = Client()
    owner.force_login(world.olivia)
    bob = member_of(world, world.bob)
    assert "Locked out" in owner.get("/clinics/staff/").content.decode()
    assert owner.post(f"/clinics/staff/{bob.pk}/", {"action": "unlock"}).status_code == 302
    assert client.post("/accounts/login/", {"username": "bob", "password": "correct horse battery"}).status_code == 302
    [event] = events("member.unlock")
    assert event.new["failures_forgotten"] >= 1


def test_another_clinics_invitation_cannot_be_resent_or_withdrawn(world, as_user, client, mailoutbox):
    charlie_owner = Membership.objects.get(user=world.charlie)
    charlie_owner.role = Role.OWNER
    charlie_owner.save()
    summit = Client()
    summit.force_login(world.charlie)
    summit.post("/clinics/staff/invite/", {**INVITE, "email": "someone@summit.example"})
    invitation = Invitation.objects.get(clinic=world.summit)
    owner = as_user(world.olivia)
    assert owner.post(f"/clinics/staff/invitations/{invitation.pk}/resend/").status_code == 404
    assert owner.post(f"/clinics/staff/invitations/{invitation.pk}/withdraw/").status_code == 404
    invitation.refresh_from_db()
    assert invitation.state == "pending" and len(mailoutbox) == 1
    assert "someone@summit.example" not in owner.get("/clinics/staff/").content.decode()


# The staff page is a list: its queries must not grow with the number of members or invitations.
STAFF_PAGE_BUDGET = 12


def test_the_staff_page_takes_as_many_queries_with_30_members_as_with_6(world, as_user):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from tests.personas import make_user

    client = as_user(world.olivia)

    def count() -> int:
        client.get("/clinics/staff/")  # warm up: the session, the sign-in lock lookups
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/clinics/staff/").status_code == 200
        return len(captured)

    few = count()
    for n in range(24):
        user = make_user(f"extra{n}")
        Membership.objects.create(clinic=world.harbor, user=user, role=Role.THERAPIST)
        TOTPDevice.objects.create(user=user, name="phone", confirmed=n % 2 == 0)
        Invitation.objects.create(clinic=world.harbor, email=f"new{n}@example.org", role=Role.ASSISTANT,
                                  token_digest="0" * 64, expires_at=timezone.now() + dt.timedelta(hours=1))
    many = count()
    assert few == many <= STAFF_PAGE_BUDGET, (few, many)
