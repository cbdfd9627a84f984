"""FHIR Bulk Data export: kick-off 202 with a status URL, the worker writes NDJSON, the status lists the
files, the same token downloads them until they expire; one clinic only, every download audited."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone

from palpate.audit.models import AuditEvent
from palpate.interop.models import BulkExport, ExportStatus
from palpate.interop.tasks import expire_exports, run_export

pytestmark = pytest.mark.django_db

ASYNC = {"Prefer": "respond-async"}


@pytest.fixture(autouse=True)
def exports_in_tmp(settings, tmp_path):  # noqa: ANN001, ANN201
    settings.PALPATE_FHIR_EXPORT_DIR = tmp_path / "exports"


def kick_off(api, path: str = "$export", **params) -> str:  # noqa: ANN001, ANN003
    response = api.get(path, headers=ASYNC, **params)
    assert response.status_code == 202, response.content
    return response["Content-Location"].split("/fhir/R4/")[1]


def run_queued() -> None:
    for export in BulkExport.objects.filter(status=ExportStatus.QUEUED):
        run_export.call_local(export.pk)


def download(api, manifest: dict) -> dict[str, list[dict]]:  # noqa: ANN001
    files: dict[str, list[dict]] = {}
    for output in manifest["output"]:
        response = api.client.get(output["url"].split("testserver")[1], HTTP_AUTHORIZATION=f"Bearer {api.token}")
        assert response.status_code == 200 and response["Content-Type"] == "application/fhir+ndjson"
        lines = [json.loads(line) for line in b"".join(response.streaming_content).decode().splitlines()]
        assert len(lines) == output["count"]
        for resource in lines:
            api.recorder.add(resource)
        files.setdefault(output["type"], []).extend(lines)
    return files


def test_a_system_export_runs_on_the_worker_and_its_files_download_with_the_same_token(
        clinical_world, make_token, fhir, django_capture_on_commit_callbacks):
    w = clinical_world.world
    api = fhir(make_token(w.alice))
    with django_capture_on_commit_callbacks(execute=False) as queued:
        status_path = kick_off(api)
    assert len(queued) == 1  # the task is queued once the kick-off commits
    pending = api.get(status_path)
    assert pending.status_code == 202 and pending["X-Progress"]
    run_queued()
    response = api.get(status_path)
    assert response.status_code == 200
    manifest = json.loads(response.content)
    assert manifest["requiresAccessToken"] is True and manifest["transactionTime"]
    files = download(api, manifest)
    assert {"Patient", "Encounter", "Procedure", "Observation", "Organization", "Practitioner"} <= set(files)
    assert [p["id"] for p in files["Patient"]] == [str(w.harbor_patient.pk)]  # Harbor's only, never Summit's
    downloads = AuditEvent.objects.filter(action="fhir.export.download")
    assert downloads.count() == len(manifest["output"])
    assert any(e.new["patients"] == [w.harbor_patient.pk] for e in downloads)


def test_another_token_even_of_the_same_clinic_cannot_see_or_download_the_export(clinical_world, make_token, fhir):
    w = clinical_world.world
    mine = fhir(make_token(w.alice))
    status_path = kick_off(mine)
    run_queued()
    manifest = json.loads(mine.get(status_path).content)
    for other in (fhir(make_token(w.alice)), fhir(make_token(w.charlie))):
        assert other.get(status_path).status_code == 404
        url = manifest["output"][0]["url"].split("/fhir/R4/")[1]
        assert other.get(url).status_code == 404


def test_group_and_patient_exports_and_type_and_since_narrow_what_is_written(clinical_world, make_token, fhir):
    from palpate.patients.models import Patient

    w = clinical_world.world
    api = fhir(make_token(w.alice))
    lonely = Patient.objects.create(clinic=w.harbor, record_number="X1", given_name="No", family_name="Episode",
                                    date_of_birth=dt.date(1990, 1, 1), sex="male")
    status_path = kick_off(api, "Group/active-episodes/$export", _type="Patient,Procedure")
    run_queued()
    files = download(api, json.loads(api.get(status_path).content))
    assert set(files) == {"Patient", "Procedure"}
    assert [p["id"] for p in files["Patient"]] == [str(w.harbor_patient.pk)]
    status_path = kick_off(api, "Patient/$export", _type="Patient")
    run_queued()
    files = download(api, json.loads(api.get(status_path).content))
    assert sorted(p["id"] for p in files["Patient"]) == sorted([str(w.harbor_patient.pk), str(lonely.pk)])
    later = (timezone.now() + dt.timedelta(hours=1)).isoformat(timespec="seconds")
    status_path = kick_off(api, _type="Patient", _since=later)
    run_queued()
    assert json.loads(api.get(status_path).content)["output"] == []


@pytest.mark.parametrize("path, params, headers, status, words", [
    ("$export", {}, {}, 400, "Prefer: respond-async"),
    ("$export", {"_type": "MedicationRequest"}, ASYNC, 404, "does not serve 'MedicationRequest'"),
    ("$export", {"_outputFormat": "text/csv"}, ASYNC, 400, "_outputFormat"),
    ("$export", {"_since": "yesterday"}, ASYNC, 400, "is not a date"),
    ("Group/everyone/$export", {}, ASYNC, 404, "Group/everyone"),
])
def test_a_bad_kick_off_is_a_4xx_that_says_what_to_fix(clinical_world, make_token, fhir, path, params, headers,
                                                       status, words):
    api = fhir(make_token(clinical_world.world.alice))
    response = api.get(path, headers=headers, **params)
    assert response.status_code == status
    assert words in json.loads(response.content)["issue"][0]["diagnostics"]
    assert not BulkExport.objects.exists()


def test_a_signed_in_member_without_a_token_cannot_start_an_export(clinical_world, client, fhir):
    client.force_login(clinical_world.world.alice)
    response = fhir(None).get("$export", headers=ASYNC)
    assert response.status_code == 403


def test_files_expire_and_a_deleted_export_is_gone(clinical_world, make_token, fhir):
    api = fhir(make_token(clinical_world.world.alice))
    status_path = kick_off(api)
    run_queued()
    manifest = json.loads(api.get(status_path).content)
    file_path = manifest["output"][0]["url"].split("/fhir/R4/")[1]
    BulkExport.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    expire_exports.call_local()
    assert api.get(status_path).status_code == 404 and api.get(file_path).status_code == 404
    assert AuditEvent.objects.filter(action="fhir.export.expire").count() == 1

    status_path = kick_off(api)
    assert api.delete(status_path).status_code == 202
    run_queued()
    assert BulkExport.objects.get(pk=status_path.rsplit("/", 1)[1]).status == ExportStatus.CANCELLED
    assert api.get(status_path).status_code == 404


def test_running_an_export_twice_writes_it_once(clinical_world, make_token, fhir):
    api = fhir(make_token(clinical_world.world.alice))
    status_path = kick_off(api)
    run_queued()
    export = BulkExport.objects.get()
    run_export.call_local(export.pk)  # a second delivery of the same task: nothing changes
    assert json.loads(api.get(status_path).content)["output"]
    assert export.files.count() == BulkExport.objects.get().files.count()
