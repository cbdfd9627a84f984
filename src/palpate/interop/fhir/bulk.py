"""FHIR Bulk Data export: the kick-off's options, the worker's streaming writer, the manifest.

The writer reads each resource type in chunks (``ResourceType.stream``) and writes one JSON line per
resource straight to its file, so memory stays flat however many resources a clinic has. Files are
kept under ``PALPATE_FHIR_EXPORT_DIR`` (mode 0600), downloadable with the token that asked for
them until they expire (``PALPATE_FHIR_EXPORT_HOURS``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings

from palpate.interop.fhir.context import Context
from palpate.interop.fhir.errors import FhirError, forbidden
from palpate.interop.fhir.registry import REGISTRY, resource_type
from palpate.interop.fhir.search import parse_date
from palpate.interop.models import BulkExport

FORMATS = ("application/fhir+ndjson", "application/ndjson", "ndjson")
# Types a system-level export writes besides the patient compartment (no Binary: PDFs are fetched one by one).
SHARED_TYPES = ("Organization", "Practitioner", "PractitionerRole", "Questionnaire")


@dataclass(frozen=True)
class Options:
    types: list[str]
    since: dt.datetime | None


def exportable(level: str) -> list[str]:
    names = [name for name, rt in REGISTRY.items() if rt.patient_compartment]
    if level == "system":
        names += [name for name in SHARED_TYPES if name in REGISTRY]
    return names


def parse_options(ctx: Context, params: Any, level: str) -> Options:
    allowed = exportable(level)
    for name in params:
        if name not in ("_outputFormat", "_type", "_since"):
            raise FhirError(400, "not-supported", f"$export takes _outputFormat, _type and _since, not {name!r}.",
                            expression=[name])
    output = params.get("_outputFormat")
    if output and output not in FORMATS:
        raise FhirError(400, "not-supported", f"_outputFormat must be one of {', '.join(FORMATS)}.",
                        expression=["_outputFormat"])
    types = [t.strip() for t in (params.get("_type") or "").split(",") if t.strip()]
    for name in types:
        resource_type(name)
        if name not in allowed:
            raise FhirError(400, "not-supported", f"{name} is not exported at this level; exported: {', '.join(allowed)}.",
                            expression=["_type"])
        if not ctx.may(REGISTRY[name].permission):
            raise forbidden(f"Your role (or your token's scope) does not allow reading {name}.")
    if not types:
        types = [name for name in allowed if ctx.may(REGISTRY[name].permission)]
    since = parse_date("_since", params["_since"]).start if params.get("_since") else None
    return Options(types, since)


def _open_private(path: Path) -> Any:
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8")


def write_export(ctx: Context, export: BulkExport, folder: Path, patients: Any,
                 on_progress: Any = None) -> list[dict[str, Any]]:
    """Write one NDJSON file per type (split every PALPATE_FHIR_EXPORT_FILE_LINES lines); returns what was written."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    lines_per_file = settings.PALPATE_FHIR_EXPORT_FILE_LINES
    written = []
    for name in export.types:
        rt = REGISTRY[name]
        part, count, seen, handle = 0, 0, set(), None
        since = export.since if name not in SHARED_TYPES else None
        try:
            for resource in rt.stream(ctx, patients if rt.patient_compartment else None, since):
                if handle is None or count >= lines_per_file:
                    if handle is not None:
                        handle.close()
                        written.append({"type": name, "part": part, "count": count, "patients": sorted(seen),
                                        "size": (folder / f"{name}-{part}.ndjson").stat().st_size})
                    part, count, seen = part + 1, 0, set()
                    handle = _open_private(folder / f"{name}-{part}.ndjson")
                handle.write(json.dumps(resource, separators=(",", ":"), ensure_ascii=False))
                handle.write("\n")
                count += 1
                seen.update(ctx.patients)
                ctx.patients.clear()
        finally:
            if handle is not None:
                handle.close()
        if handle is not None:
            written.append({"type": name, "part": part, "count": count, "patients": sorted(seen),
                            "size": (folder / f"{name}-{part}.ndjson").stat().st_size})
        if on_progress is not None:
            on_progress(f"{name} written")
    return written


def manifest(ctx: Context, export: BulkExport) -> dict[str, Any]:
    from palpate.interop.fhir.codes import instant

    return {
        "transactionTime": instant(export.started_at),
        "request": export.request_url,
        "requiresAccessToken": True,
        "output": [{"type": f.resource_type, "url": ctx.url(f"$export-file/{export.pk}/{f.filename}"), "count": f.count}
                   for f in export.files.all()],
        "error": [],
        "extension": {"expires": instant(export.expires_at)},
    }
