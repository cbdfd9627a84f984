"""API tokens: made by an owner (in the app or with `palpate token create`), shown once, stored hashed,
scoped, expiring, revocable, listed with last use, every use audited, accepted by the JSON API too."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import re
from contextlib import redirect_stderr

import pytest
from django.core.management import call_command
from django.utils import timezone

from palpate.audit.models import AuditEvent
from palpate.interop.models import ApiToken

pytestmark = pytest.mark.django_db


def make_in_app(client, member_pk: int, scope: str = "read", **extra) -> str:  # noqa: ANN001, ANN003
    response = client.post("/interop/tokens/", {"member": member_pk, "scope": scope, "days": 30, "label": "Registry",
                                                 **extra})
    assert response.status_code == 200, response.content[:500]
    return re.search(r'<code id="token">(pal_[^<]+)</code>', response.content.decode()).group(1)


def test_an_owner_makes_a_token_that_is_shown_once_and_stored_only_hashed(world, as_user):
    client = as_user(world.olivia)
    raw = make_in_app(client, world.alice.memberships.get().pk)
    token = ApiToken.objects.get()
    assert token.digest == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in json.dumps([e.new for e in AuditEvent.objects.all()], default=str)
    listing = client.get("/interop/tokens/").content.decode()
    assert "Registry" in listing and raw not in listing and f"pal_{token.prefix}" in listing
    event = AuditEvent.objects.get(action="token.create")
    assert event.new["scope"] == "read" and event.new["member"] == "alice"


def test_an_owner_makes_a_system_client_that_cannot_sign_in(world, as_user, client):
    owner = as_user(world.olivia)
    raw = make_in_app(owner, "", client_name="County hospital", client_role="front_desk", scope="write")
    token = ApiToken.objects.select_related("membership__user").get()
    assert token.membership.role == "front_desk" and not token.membership.user.has_usable_password()
    owner.logout()
    response = client.get("/fhir/R4/Patient", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 200


def test_only_an_owner_may_manage_tokens(world, as_user):
    assert as_user(world.alice).get("/interop/tokens/").status_code == 403


def test_an_owner_cannot_revoke_another_clinics_token(world, as_user, make_token):
    make_token(world.charlie)
    summit_token = ApiToken.objects.get(clinic=world.summit)
    response = as_user(world.olivia).post(f"/interop/tokens/{summit_token.pk}/revoke/")
    assert response.status_code == 404
    summit_token.refresh_from_db()
    assert summit_token.revoked_at is None


def test_a_revoked_or_expired_or_unknown_token_is_a_401_that_says_why(world, as_user, make_token, client):
    raw = make_token(world.alice)
    token = ApiToken.objects.get()
    as_user(world.olivia).post(f"/interop/tokens/{token.pk}/revoke/")
    client.logout()
    response = client.get("/fhir/R4/Patient", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 401 and "revoked" in json.loads(response.content)["issue"][0]["diagnostics"]
    assert AuditEvent.objects.filter(action="token.revoke").exists()

    raw = make_token(world.alice)
    ApiToken.objects.filter(revoked_at__isnull=True).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    response = client.get("/fhir/R4/Patient", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 401 and "expired" in json.loads(response.content)["issue"][0]["diagnostics"]

    response = client.get("/fhir/R4/Patient", HTTP_AUTHORIZATION="Bearer pal_madeup")
    assert response.status_code == 401 and "Unknown API token" in json.loads(response.content)["issue"][0]["diagnostics"]
    response = client.get("/api/patients", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 401 and "expired" in response.json()["detail"]


def test_a_token_stops_working_when_its_member_leaves_the_clinic(world, make_token, client):
    raw = make_token(world.alice)
    world.alice.memberships.update(is_active=False)
    response = client.get("/fhir/R4/Patient", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 401


def test_the_json_api_accepts_tokens_within_their_clinic_and_scope_and_audits_each_use(world, make_token, client):
    raw = make_token(world.alice, "read")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    listed = client.get("/api/patients", **auth)
    assert listed.status_code == 200 and [p["family_name"] for p in listed.json()["items"]] == ["Garcia"]
    assert client.get(f"/api/patients/{world.summit_patient.pk}", **auth).status_code == 404
    refused = client.post("/api/patients", {"given_name": "A", "family_name": "B", "date_of_birth": "1990-01-01",
                                            "sex": "female"}, content_type="application/json", **auth)
    assert refused.status_code == 403
    uses = AuditEvent.objects.filter(action="token.use", actor=world.alice)
    assert uses.count() == 3 and uses.first().new["token"] == raw[4:12]
    token = ApiToken.objects.get()
    assert token.last_used_at is not None


def test_a_write_token_registers_a_patient_through_the_json_api(world, make_token, client):
    raw = make_token(world.fran, "write")
    response = client.post("/api/patients", {"given_name": "Ada", "family_name": "Okafor",
                                             "date_of_birth": "1981-03-04", "sex": "female"},
                           content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 201


def test_the_command_line_makes_lists_and_revokes_tokens(world, capsys):
    call_command("token", "create", "--user", "alice", "--scope", "write", "--days", "7")
    raw = capsys.readouterr().out.strip()
    assert raw.startswith("pal_")
    token = ApiToken.objects.get()
    assert token.scope == "write" and (token.expires_at - timezone.now()).days == 6
    call_command("token", "list")
    assert f"pal_{token.prefix}" in capsys.readouterr().out
    call_command("token", "revoke", token.prefix)
    token.refresh_from_db()
    assert token.revoked_at is not None


@pytest.mark.parametrize("args, path", [
    (["--user", "nobody", "--scope", "read"], "--user"),
    (["--user", "alice", "--scope", "admin"], "--scope"),
    (["--user", "alice", "--scope", "read", "--days", "9999"], "--days"),
])
def test_the_command_line_exits_2_with_a_json_error_for_bad_input(world, args, path):
    errors = io.StringIO()
    with redirect_stderr(errors), pytest.raises(SystemExit) as exit_:
        call_command("token", "create", *args)
    assert exit_.value.code == 2
    assert json.loads(errors.getvalue())["error"]["path"] == path
    assert not ApiToken.objects.exists()


def test_the_tokens_page_reads_a_fixed_number_of_queries(world, as_user, make_token, django_assert_max_num_queries):
    client = as_user(world.olivia)
    for _ in range(8):
        make_token(world.alice)
    with django_assert_max_num_queries(14):
        assert client.get("/interop/tokens/").status_code == 200
