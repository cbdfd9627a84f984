"""Transport and browser: HTTPS when PALPATE_HTTPS=1, nothing with patient data cached, the API's
schema and docs for signed-in staff only and served by Palpate itself, private data files."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client, override_settings


def _settings_with(tmp_path: Path, **env: str) -> dict[str, object]:
    names = ["SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SECURE_PROXY_SSL_HEADER", "SESSION_COOKIE_SECURE",
             "CSRF_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "SESSION_EXPIRE_AT_BROWSER_CLOSE", "X_FRAME_OPTIONS"]
    code = ("import json, django; django.setup(); from django.conf import settings as s; "
            f"print(json.dumps({{n: getattr(s, n, None) for n in {names!r}}}))")
    full_env = {**os.environ, "PALPATE_DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "palpate.web.settings", **env}
    full_env.pop("DATABASE_URL", None)
    done = subprocess.run([sys.executable, "-c", code], env=full_env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_palpate_https_turns_on_hsts_the_redirect_and_secure_cookies(tmp_path):
    on = _settings_with(tmp_path, PALPATE_HTTPS="1")
    assert on["SECURE_SSL_REDIRECT"] is True and on["SECURE_HSTS_SECONDS"] == 31536000
    assert on["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert on["SESSION_COOKIE_SECURE"] is True and on["CSRF_COOKIE_SECURE"] is True
    assert on["SESSION_COOKIE_HTTPONLY"] is True and on["SESSION_EXPIRE_AT_BROWSER_CLOSE"] is True
    off = _settings_with(tmp_path)
    assert not off["SECURE_SSL_REDIRECT"] and not off["SECURE_HSTS_SECONDS"] and off["SESSION_COOKIE_SECURE"] is False


HTTPS_ON = {"SECURE_SSL_REDIRECT": True, "SECURE_HSTS_SECONDS": 31536000, "SESSION_COOKIE_SECURE": True,
            "CSRF_COOKIE_SECURE": True, "SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https"),
            "SECURE_REDIRECT_EXEMPT": [r"^healthz$", r"^readyz$"]}


@override_settings(**HTTPS_ON)
def test_with_https_plain_http_is_redirected_and_https_answers_carry_hsts_and_secure_cookies(world):
    client = Client()
    plain = client.get("/accounts/login/")
    assert plain.status_code == 301 and plain["Location"] == "https://testserver/accounts/login/"
    assert client.get("/healthz").status_code == 200, "the local probe is not redirected"
    proxied = {"HTTP_X_FORWARDED_PROTO": "https"}
    page = client.get("/accounts/login/", **proxied)
    assert page["Strict-Transport-Security"] == "max-age=31536000"
    signed_in = client.post("/accounts/login/", {"username": "alice", "password": "correct horse battery"}, **proxied)
    assert signed_in.status_code == 302
    assert signed_in.cookies["sessionid"]["secure"] and signed_in.cookies["sessionid"]["httponly"]
    assert signed_in.cookies["csrftoken"]["secure"]


# -- caching ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/patients/", "/patients/{p}/", "/api/patients", "/api/patients/{p}",
                                  "/accounts/", "/clinics/staff/"])
def test_no_answer_to_a_signed_in_person_may_be_stored(world, as_user, path):
    response = as_user(world.olivia).get(path.format(p=world.harbor_patient.pk))
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"


def test_pdfs_and_api_errors_are_not_stored_either(clinical_world, as_user):
    world = clinical_world.world
    client = as_user(world.alice)
    pdf = client.get(f"/patients/{world.harbor_patient.pk}/visits/{clinical_world.visit.pk}/note.pdf")
    assert pdf["Content-Type"] == "application/pdf" and pdf["Cache-Control"] == "no-store"
    assert Client().get("/api/patients")["Cache-Control"] == "no-store"


def test_static_files_keep_their_own_caching(world, as_user):
    response = as_user(world.alice).get("/static/palpate/palpate.css")
    assert response.status_code == 200 and "no-store" not in response.get("Cache-Control", "")


# -- the API's schema and docs ---------------------------------------------------------------------


def test_the_schema_and_the_docs_are_for_signed_in_staff_only(world, client):
    assert client.get("/api/openapi.json").status_code == 401
    docs = client.get("/api/docs")
    assert docs.status_code == 302 and docs["Location"].startswith("/accounts/login/")
    from tests.personas import make_user

    client.force_login(make_user("no-clinic"))
    assert client.get("/api/openapi.json").status_code == 403
    client.force_login(world.fran)
    schema = client.get("/api/openapi.json")
    assert schema.status_code == 200 and "/api/patients" in schema.json()["paths"]


def test_the_docs_load_swagger_ui_from_palpate_itself_under_the_strict_policy(world, as_user):
    response = as_user(world.alice).get("/api/docs")
    body = response.content.decode()
    assert response.status_code == 200
    scripts = [line for line in body.splitlines() if "<script" in line and "src=" in line]
    assert scripts and all('src="/static/ninja/' in line for line in scripts), scripts
    assert "cdn" not in body.lower() and "https://" not in body
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "default-src 'self'" in policy and "unsafe-eval" not in policy
    assert as_user(world.alice).get("/static/ninja/swagger-ui-bundle.js").status_code == 200


# -- private files ---------------------------------------------------------------------------------


def test_the_data_directory_its_keys_and_its_mail_are_the_owners_only(tmp_path):
    _settings_with(tmp_path)  # a first start in an empty data directory
    mode = {name: stat.S_IMODE((tmp_path / name).stat().st_mode) for name in ("secret_key", "palpate.sqlite3", "mail")}
    assert stat.S_IMODE(tmp_path.stat().st_mode) == 0o700
    assert mode == {"secret_key": 0o600, "palpate.sqlite3": 0o600, "mail": 0o700}


def test_this_installations_data_directory_is_private():
    data_dir = Path(django_settings.DATA_DIR)
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE(Path(django_settings.EMAIL_FILE_PATH).stat().st_mode) == 0o700


def test_the_deploy_check_asks_for_the_proxys_client_header_and_an_https_base_url(settings):
    from palpate.accounts.checks import client_address_behind_the_proxy, links_in_emails_use_https

    settings.HTTPS = True
    settings.PALPATE_CLIENT_IP_HEADER = ""
    settings.PALPATE_BASE_URL = "http://127.0.0.1:8000"
    assert [w.id for w in client_address_behind_the_proxy() + links_in_emails_use_https()] == [
        "palpate.W020", "palpate.W021"]
    settings.PALPATE_CLIENT_IP_HEADER = "X-Forwarded-For"
    settings.PALPATE_BASE_URL = "https://palpate.example.org"
    assert client_address_behind_the_proxy() + links_in_emails_use_https() == []
    settings.HTTPS = False
    settings.PALPATE_CLIENT_IP_HEADER = ""
    assert client_address_behind_the_proxy() == [], "without a proxy the connection's address is the client's"
