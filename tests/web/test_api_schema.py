"""Property-based checks of the JSON API against its own OpenAPI schema (schemathesis).

Every read endpoint is called with generated parameters as a signed-in therapist; each answer
must match the documented status codes and shapes, and never be a 500. Writes are covered by
the endpoint tests, which need a CSRF token that generated cases do not carry.
"""

from __future__ import annotations

import json

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from palpate.web.wsgi import application


def _served_schema() -> schemathesis.schemas.BaseSchema:
    # /api/openapi.json is for signed-in staff only (test_transport.py), and no one is signed in
    # while tests are collected: read the same document from the API object, and call the app.
    from palpate.web.api import api

    loaded = schemathesis.openapi.from_dict(json.loads(json.dumps(api.get_openapi_schema(path_prefix="/api/"))))
    loaded.app = application
    loaded.location = "/api/openapi.json"
    return loaded.include(method="GET")


schema = _served_schema()
# The signed-in session of the current test; schemathesis adds it to the cases it means to be
# authenticated and leaves it off the ones that check that unauthenticated calls are refused.
CURRENT_SESSION: dict[str, str] = {}
STATUSES: list[int] = []


@schema.auth(refresh_interval=None)
class SessionCookie:
    def get(self, case, context):  # noqa: ANN001, ANN201
        return CURRENT_SESSION.get("sessionid", "")

    def set(self, case, data, context):  # noqa: ANN001, ANN201
        case.cookies = {**(case.cookies or {}), "sessionid": data}


@pytest.fixture
def session_cookie(live_db, world, client):  # noqa: ANN001, ANN201
    # Committed data (live_db), so that whatever connection the WSGI call uses sees the session.
    # Calling the WSGI app directly fires request_started and request_finished, whose
    # close_old_connections would close the test's transaction (on PostgreSQL it really does);
    # Django's own test client disconnects both the same way.
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    client.force_login(world.alice)
    client.get("/")  # picks the active clinic into the session
    CURRENT_SESSION["sessionid"] = client.cookies["sessionid"].value
    yield
    CURRENT_SESSION.clear()
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_read_endpoint_answers_as_documented(case, session_cookie):  # noqa: ANN001
    response = case.call_and_validate()
    STATUSES.append(response.status_code)
    # Cases built to be valid carry the session; a 401 for one of them would mean the checks
    # never got past sign-in and proved nothing.
    if case.cookies and case.cookies.get("sessionid") == CURRENT_SESSION.get("sessionid"):
        assert response.status_code != 401


def test_the_schema_checks_reached_real_answers():
    """Runs after the generated cases (file order): some of them must have been answered 200."""
    assert 200 in STATUSES, f"no generated call got past sign-in: {sorted(set(STATUSES))}"
