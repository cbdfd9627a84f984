"""Owners export the trail for a patient or a date range, as CSV or JSON; the export is audited."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

from palpate.audit.models import AuditEvent


def _body(response) -> str:  # noqa: ANN001
    return b"".join(response.streaming_content).decode()


def test_it_exports_a_patients_trail_as_csv_with_the_hash_links(world, as_user):
    client = as_user(world.olivia)
    response = client.get("/audit/export/", {"patient": world.harbor_patient.pk, "format": "csv"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(_body(response))))
    assert rows and {r["patient_id"] for r in rows} == {str(world.harbor_patient.pk)}
    assert rows[0]["action"] == "patient.create" and len(rows[0]["hash"]) == 64


def test_it_exports_a_date_range_as_json_and_records_the_export(world, as_user):
    today = dt.date.today().isoformat()
    response = as_user(world.olivia).get("/audit/export/", {"date_from": today, "date_to": today, "format": "json"})
    document = json.loads(_body(response))
    assert document["scope"]["from"] == today and document["events"]
    assert all(e["created_at"].startswith(today) for e in document["events"])
    event = AuditEvent.objects.filter(action="audit.export").latest("seq")
    assert event.actor == world.olivia and event.new["format"] == "json" and event.new["events"] == len(document["events"])


def test_bad_input_is_a_form_error_not_a_crash(world, as_user):
    client = as_user(world.olivia)
    for query in ({"format": "csv"}, {"format": "csv", "date_from": "yesterday"}, {"format": "xml", "patient": "1"},
                  {"format": "csv", "date_from": "2026-05-02", "date_to": "2026-05-01"}, {"format": "csv", "patient": "²"}):
        response = client.get("/audit/export/", query)
        assert response.status_code == 200, query
        assert "Please correct" in response.content.decode(), query


def test_another_clinics_patient_is_a_404_and_only_owners_may_export(world, as_user):
    assert as_user(world.olivia).get("/audit/export/", {"patient": world.summit_patient.pk,
                                                        "format": "csv"}).status_code == 404
    for user in (world.alice, world.aubrey, world.fran, world.charlie):
        assert as_user(user).get("/audit/export/", {"patient": world.harbor_patient.pk, "format": "csv"}).status_code == 403


def test_an_owner_downloads_a_signed_checkpoint_of_their_clinic_only(world, as_user):
    response = as_user(world.olivia).get("/audit/checkpoint/")
    document = json.loads(response.content)
    assert [c["clinic"] for c in document["clinics"]] == [world.harbor.pk]
    assert document["signature"] and as_user(world.alice).get("/audit/checkpoint/").status_code == 403
