"""A FHIR client library (fhirpy) reads the served app: a token made with `palpate token create`, a
patient's $everything, a search paged to the end, and a bulk export run by the real background worker."""

from __future__ import annotations

import json
import os
import time

import pytest
import requests
from fhirpy import SyncFHIRClient

from tests.served import driver

pytestmark = pytest.mark.served


def _postgres_url() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith(("postgres://", "postgresql://")) else None


def test_fhirpy_reads_everything_of_a_patient_and_a_bulk_export_completes_on_the_worker() -> None:
    with driver.served(workers=2, database_url=_postgres_url()) as app:
        made = app.palpate("token", "create", "--user", "harbor-owner", "--scope", "read", "--days", "1")
        assert made.returncode == 0, made.stderr
        token = made.stdout.strip().splitlines()[-1]
        assert token.startswith("pal_")
        base = f"{app.base}/fhir/R4"
        client = SyncFHIRClient(base, authorization=f"Bearer {token}")

        encounter = client.resources("Encounter").search(type="visit").limit(1).first()
        patient_id = encounter["subject"]["reference"].split("/")[1]
        patient = client.reference("Patient", patient_id).to_resource()
        assert patient["resourceType"] == "Patient"

        everything = client.resource("Patient", id=patient_id).execute("$everything", method="get")
        kinds = {entry["resource"]["resourceType"] for entry in everything["entry"]}
        assert {"Patient", "Encounter", "Procedure", "Observation", "CarePlan", "Provenance"} <= kinds

        observations = client.resources("Observation").search(patient=patient_id).limit(10).fetch_all()
        ids = [o["id"] for o in observations]
        in_everything = [e["resource"]["id"] for e in everything["entry"]
                         if e["resource"]["resourceType"] == "Observation"]
        assert len(ids) == len(set(ids)) == len(in_everything) > 10  # paged in tens, none lost or repeated

        headers = {"Authorization": f"Bearer {token}", "Accept": "application/fhir+json", "Prefer": "respond-async"}
        kick = requests.get(f"{base}/Patient/$export", params={"_type": "Patient,Procedure"}, headers=headers,
                            timeout=30)
        assert kick.status_code == 202, kick.text
        status_url = kick.headers["Content-Location"]
        deadline = time.monotonic() + 180
        while True:
            status = requests.get(status_url, headers=headers, timeout=30)
            if status.status_code != 202 or time.monotonic() > deadline:
                break
            time.sleep(1)
        assert status.status_code == 200, status.text
        manifest = status.json()
        procedures = next(o for o in manifest["output"] if o["type"] == "Procedure")
        lines = requests.get(procedures["url"], headers={"Authorization": f"Bearer {token}"}, timeout=30).text
        assert len(lines.splitlines()) == procedures["count"] > 0
        assert json.loads(lines.splitlines()[0])["resourceType"] == "Procedure"
        assert requests.get(procedures["url"], timeout=30).status_code == 401  # the token is required
