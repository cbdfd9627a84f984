"""GET /api/patients/{patient_id}/outcomes, through the router itself.

Once palpate.web.api registers the router, tests/web/matrix_outcomes.py also puts the endpoint in
the access matrix (another clinic 404, signed out 401) through the real URL.
"""

from __future__ import annotations

import datetime as dt

import pytest
from ninja.testing import TestClient

from palpate.audit.models import AuditEvent
from palpate.clinics.actor import Actor
from palpate.clinics.models import Membership
from palpate.outcomes.api import router
from tests.web.test_outcomes import measure


def actor_of(user, clinic) -> Actor:  # noqa: ANN001
    return Actor.of(Membership.objects.get(user=user, clinic=clinic))


@pytest.fixture
def api() -> TestClient:
    return TestClient(router)


def test_it_lists_a_patients_measurements_with_the_core_scores_and_bands(world, api):
    measure(world, "odi", dt.date(2026, 10, 10), 35.5555, answers=[2, 2, 2, 2, 2, 2, 1, None, 2, 1])
    measure(world, "psfs", dt.date(2026, 10, 11), 4.5, answers=[3, 6], activities=["Gardening", "Stairs"])
    response = api.get(f"/patients/{world.harbor_patient.pk}/outcomes", user=world.alice,
                       actor=actor_of(world.alice, world.harbor))
    assert response.status_code == 200
    odi, psfs = response.json()
    assert odi["instrument"] == "odi" and odi["band"] == "moderate disability" and odi["answers"][7] is None
    assert psfs["activities"] == ["Gardening", "Stairs"] and psfs["band"] is None
    event = AuditEvent.objects.get(action="outcomes.view.api")
    assert event.actor == world.alice and event.patient_id == world.harbor_patient.pk


def test_another_clinics_patient_is_a_404_and_the_front_desk_a_403(world, api):
    url = f"/patients/{world.harbor_patient.pk}/outcomes"
    assert api.get(url, user=world.charlie, actor=actor_of(world.charlie, world.summit)).status_code == 404
    assert api.get(url, user=world.fran, actor=actor_of(world.fran, world.harbor)).status_code == 403


def test_an_episode_filter_too_large_for_the_database_is_a_422(clinical_world, as_user):
    client = as_user(clinical_world.world.alice)
    response = client.get(f"/api/patients/{clinical_world.world.harbor_patient.pk}/outcomes?episode_id={10**25}")
    assert response.status_code == 422
