"""Fixtures for the FHIR API tests: tokens, a client that sends them and validates every answer."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.interop.validation import Recorder
from tests.personas import as_user, clinical_world, fast_password_hashing, live_db, world  # noqa: F401


@pytest.fixture(scope="module")
def fhir_recorder():  # noqa: ANN201
    """Every FHIR body a module's tests received, validated by Medplum in one batch when the module ends."""
    recorder = Recorder()
    yield recorder
    problems = recorder.validate_batch()
    assert problems == [], f"Medplum's validator rejected {len(problems)} resource(s): {problems[:5]}"


@pytest.fixture
def make_token(world):  # noqa: ANN001, ANN201, F811
    """``make_token(world.alice, "read")`` -> the raw token, made through the services as an owner would."""
    from palpate.clinics.actor import Actor
    from palpate.clinics.models import Membership
    from palpate.interop import services

    def make(user: Any, scope: str = "read", days: int = 30) -> str:
        membership = Membership.objects.get(user=user)
        owner = Membership.objects.filter(clinic=membership.clinic, role="owner").first()
        actor = Actor.of(owner) if owner else None
        new = services.check_create_token(actor, membership.clinic, membership, scope, days, f"test {scope}")
        return services.do_create_token(actor, new)[1]

    return make


class FhirClient:
    def __init__(self, client: Any, recorder: Recorder, token: str | None) -> None:
        self.client = client
        self.recorder = recorder
        self.token = token

    def _headers(self, extra: dict[str, str]) -> dict[str, str]:
        headers = {"HTTP_ACCEPT": "application/fhir+json"}
        if self.token:
            headers["HTTP_AUTHORIZATION"] = f"Bearer {self.token}"
        headers.update({f"HTTP_{k.upper().replace('-', '_')}": v for k, v in extra.items()})
        return headers

    def _seen(self, response: Any) -> Any:
        if response.get("Content-Type", "").startswith("application/fhir+json") and response.content:
            self.recorder.add(json.loads(response.content))
        return response

    def get(self, path: str, headers: dict[str, str] | None = None, **params: Any) -> Any:
        return self._seen(self.client.get(f"/fhir/R4/{path}", params, **self._headers(headers or {})))

    def post(self, path: str, body: Any, headers: dict[str, str] | None = None,
             content_type: str = "application/fhir+json") -> Any:
        data = json.dumps(body) if not isinstance(body, str | bytes) else body
        return self._seen(self.client.post(f"/fhir/R4/{path}", data, content_type=content_type,
                                           **self._headers(headers or {})))

    def delete(self, path: str) -> Any:
        return self._seen(self.client.delete(f"/fhir/R4/{path}", **self._headers({})))


@pytest.fixture
def fhir(client, fhir_recorder):  # noqa: ANN001, ANN201
    """``fhir(token)`` -> a client for /fhir/R4/ sending that bearer token (None: the session, if any)."""

    def make(token: str | None = None) -> FhirClient:
        return FhirClient(client, fhir_recorder, token)

    return make
