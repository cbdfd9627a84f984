"""The one-door rule, tested for every patient-scoped URL: another clinic's patient is a 404,
a read-only role gets a 403 on writes, and nobody signed out gets in.

The matrix is every ``tests/web/matrix_*.py`` module's ``PATIENT_URLS`` (name -> (path template,
is_write)) and ``API_PATIENT_URLS`` (name -> path template), so each app keeps its own rows. It
must list every URL pattern that takes a patient id: a test below fails when a new view is added
without being put in the matrix. Templates use the ids of ``clinical_world``: {p} patient,
{e} episode, {ev} evaluation, {r} referral, {plan} plan of care, {v} visit, {m} measurement.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

PATIENT_URLS: dict[str, tuple[str, bool]] = {}
API_PATIENT_URLS: dict[str, str] = {}
ROLE_GET: dict[str, frozenset[str]] = {}  # name -> the roles that open the page (test_role_matrix.py)
for _module in pkgutil.iter_modules([str(Path(__file__).parent)]):
    if _module.name.startswith("matrix_"):
        _matrix = importlib.import_module(f"tests.web.{_module.name}")
        PATIENT_URLS |= getattr(_matrix, "PATIENT_URLS", {})
        API_PATIENT_URLS |= getattr(_matrix, "API_PATIENT_URLS", {})
        ROLE_GET |= getattr(_matrix, "ROLE_GET", {})


def _patterns(resolver: URLResolver, prefix: str = "", namespace: str = "") -> list[tuple[str, str]]:
    found = []
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or namespace
            found += _patterns(entry, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern) and entry.name:
            found.append((f"{namespace}:{entry.name}" if namespace else entry.name, prefix + str(entry.pattern)))
    return found


def test_every_url_that_takes_a_patient_is_in_the_access_matrix():
    taking_patient = {
        name for name, pattern in _patterns(get_resolver())
        if ("<int:pk>" in pattern and pattern.startswith("patients/")) or "{patient_id}" in pattern or "<patient_id>" in pattern
        or "<int:patient_id>" in pattern
    }
    assert taking_patient, "found no patient URLs at all: the matrix walk is broken"
    missing = taking_patient - set(PATIENT_URLS) - set(API_PATIENT_URLS)
    assert not missing, f"add these patient URLs to the access matrix: {sorted(missing)}"


@pytest.fixture
def ids(clinical_world) -> dict[str, int]:  # noqa: ANN001
    return clinical_world.ids()


def _url(template: str, ids: dict[str, int]) -> str:
    return template.format(**ids)


@pytest.mark.parametrize("name", sorted(PATIENT_URLS))
@pytest.mark.parametrize("method", ["get", "post"])
def test_a_user_of_another_clinic_gets_404_for_every_patient_page(world, ids, as_user, name, method):
    client = as_user(world.charlie)
    response = getattr(client, method)(_url(PATIENT_URLS[name][0], ids))
    assert response.status_code == 404


@pytest.mark.parametrize("name", sorted(API_PATIENT_URLS))
def test_a_user_of_another_clinic_gets_404_from_every_patient_api(world, ids, as_user, name):
    response = as_user(world.charlie).get(_url(API_PATIENT_URLS[name], ids))
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found"}


@pytest.mark.parametrize("name", sorted(PATIENT_URLS))
def test_a_therapist_in_the_same_clinic_can_open_every_patient_page(world, ids, as_user, name):
    # What each of the other roles may open is the role table's (test_role_matrix.py).
    response = as_user(world.alice).get(_url(PATIENT_URLS[name][0], ids))
    assert response.status_code == 200


@pytest.mark.parametrize("name", sorted(API_PATIENT_URLS))
def test_a_colleague_in_the_same_clinic_can_read_the_patient_api(world, ids, as_user, name):
    response = as_user(world.bob).get(_url(API_PATIENT_URLS[name], ids))
    assert response.status_code == 200


@pytest.mark.parametrize("name", sorted(n for n, (_, write) in PATIENT_URLS.items() if write))
@pytest.mark.parametrize("method", ["get", "post"])
def test_the_read_only_auditor_gets_403_on_every_write(world, ids, as_user, name, method):
    response = getattr(as_user(world.aubrey), method)(_url(PATIENT_URLS[name][0], ids), {"given_name": "X"})
    assert response.status_code == 403


@pytest.mark.parametrize("name", sorted(n for n, (_, write) in PATIENT_URLS.items() if not write))
def test_the_read_only_auditor_can_read(world, ids, as_user, name):
    assert as_user(world.aubrey).get(_url(PATIENT_URLS[name][0], ids)).status_code == 200


@pytest.mark.parametrize("name", sorted(PATIENT_URLS))
def test_signed_out_visitors_are_sent_to_sign_in(world, ids, client, name):
    response = client.get(_url(PATIENT_URLS[name][0], ids))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("name", sorted(API_PATIENT_URLS))
def test_signed_out_api_calls_get_401(world, ids, client, name):
    assert client.get(_url(API_PATIENT_URLS[name], ids)).status_code == 401


def test_the_patient_list_shows_only_the_active_clinics_patients(world, as_user):
    body = as_user(world.charlie).get("/patients/").content.decode()
    assert "Rossi" in body
    assert "Garcia" not in body


def test_the_api_list_shows_only_the_active_clinics_patients(world, as_user):
    data = as_user(world.charlie).get("/api/patients").json()
    assert [p["family_name"] for p in data["items"]] == ["Rossi"]


def test_a_user_with_no_clinic_gets_403_not_a_crash(db, as_user):
    from tests.personas import make_user

    response = as_user(make_user("nobody")).get("/patients/")
    assert response.status_code == 403


def test_front_desk_can_register_patients_but_not_open_the_audit_log(world, as_user):
    client = as_user(world.fran)
    assert client.get("/patients/new/").status_code == 200
    assert client.get("/audit/").status_code == 403


def test_owner_and_auditor_can_open_the_audit_log(world, as_user, client):
    assert as_user(world.olivia).get("/audit/").status_code == 200
    client.logout()
    assert as_user(world.aubrey).get("/audit/").status_code == 200


@pytest.mark.parametrize("name", sorted(PATIENT_URLS))
def test_an_id_too_large_for_the_database_is_a_404_not_a_crash(world, ids, as_user, name):
    huge = 10**25
    template = PATIENT_URLS[name][0]
    for key in [k for k in ids if "{" + k + "}" in template]:
        url = _url(template, {**ids, key: huge})
        assert as_user(world.alice).get(url).status_code == 404, url


@pytest.mark.parametrize("name", sorted(API_PATIENT_URLS))
def test_the_api_answers_an_id_too_large_for_the_database_with_422(world, ids, as_user, name):
    url = _url(API_PATIENT_URLS[name], {**ids, "p": 10**25})
    assert as_user(world.alice).get(url).status_code == 422
