"""One-off links: signed, single-purpose, expiring, stored hashed, usable once; clear pages when refused."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from palpate.audit.models import AuditEvent
from palpate.portal.models import AccessLink, LinkPurpose
from palpate.reported.models import CheckIn
from tests.portal.conftest import sent_link

ANSWERS = {"soreness": "3", "soreness_hours": "12", "relief": "some", "programme": "all"}


def test_it_stores_only_the_hash_of_the_token(portal):
    url = sent_link(portal.check_in)
    raw = url.split("/")[-2].split(":")[0]
    link = AccessLink.objects.get(purpose=LinkPurpose.CHECK_IN)
    import hashlib

    assert link.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert all(raw not in str(value) for value in AccessLink.objects.values().get().values())


def test_a_check_in_link_works_without_an_account_and_only_once(portal, client):
    url = sent_link(portal.check_in)
    assert client.get(url).status_code == 200
    answered = client.post(url, ANSWERS)
    assert answered.status_code == 200 and b"Thank you" in answered.content
    assert CheckIn.objects.get(pk=portal.check_in.pk).soreness == 3
    again = client.post(url, {**ANSWERS, "soreness": "9"})
    assert again.status_code == 410 and b"has been used" in again.content
    assert CheckIn.objects.get(pk=portal.check_in.pk).soreness == 3
    assert client.get(url).status_code == 410


def test_an_expired_link_gets_a_page_that_says_so(portal, client):
    url = sent_link(portal.check_in)
    AccessLink.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    response = client.get(url)
    assert response.status_code == 410 and b"This link has expired" in response.content
    assert b"Harbor Physical Therapy" in response.content
    assert AuditEvent.objects.filter(action="portal.link_refused", new__why="expired").exists()
    assert client.post(url, ANSWERS).status_code == 410
    assert CheckIn.objects.get(pk=portal.check_in.pk).soreness is None


def test_an_altered_link_is_refused_with_a_clear_page_not_a_404_riddle(portal, client):
    url = sent_link(portal.check_in)
    token = url.split("/")[-2]
    altered = url.replace(token, ("A" if token[0] != "A" else "B") + token[1:])
    response = client.get(altered)
    assert response.status_code == 400 and b"not complete or was changed" in response.content
    assert client.post(altered, ANSWERS).status_code == 400
    # The same token is no key to another purpose's page: the signature is per purpose.
    assert client.get(f"/portal/q/{token}/").status_code == 400
    assert client.get(f"/portal/welcome/{token}/").status_code == 400


def test_opening_a_link_is_audited_as_the_patient(portal, client):
    url = sent_link(portal.check_in)
    client.get(url)
    event = AuditEvent.objects.filter(action="portal.link_open.check_in").get()
    assert event.actor_id is None and event.actor_name.startswith("patient ")
    assert event.patient_id == portal.patient.pk
