"""Structured request logs: enough to trace a slow request, never a name, a note or a query string."""

from __future__ import annotations

import json
import logging

from pythonjsonlogger.json import JsonFormatter


def _lines(caplog) -> list[logging.LogRecord]:  # noqa: ANN001
    return [r for r in caplog.records if r.name == "palpate.request"]


def test_each_request_is_logged_with_its_id_user_clinic_and_timings_but_no_query_string(world, as_user, caplog):
    caplog.set_level(logging.INFO, logger="palpate.request")
    response = as_user(world.alice).get("/patients/", {"q": world.harbor_patient.family_name})
    record = _lines(caplog)[-1]
    assert record.path == "/patients/" and record.route == "patients/" and record.status == 200
    assert record.user_id == world.alice.pk and record.clinic_id == world.harbor.pk
    assert record.duration_ms > 0 and record.db_queries > 0 and record.request_id == response["X-Request-ID"]
    line = JsonFormatter("%(message)s").format(record)
    assert json.loads(line)["request_id"] == record.request_id
    assert world.harbor_patient.family_name not in line and "q=" not in line


def test_a_request_id_from_the_proxy_is_kept_and_a_strange_one_replaced(client, caplog, db):
    caplog.set_level(logging.INFO, logger="palpate.request")
    assert client.get("/healthz", HTTP_X_REQUEST_ID="proxy-1234abcd")["X-Request-ID"] == "proxy-1234abcd"
    replaced = client.get("/healthz", HTTP_X_REQUEST_ID="<script>alert(1)</script>")["X-Request-ID"]
    assert replaced != "<script>alert(1)</script>" and len(replaced) == 32
