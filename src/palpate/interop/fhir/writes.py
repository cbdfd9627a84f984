"""What other systems may write: a Patient and its Condition (the referral), one at a time or as a
transaction Bundle, through the patients app's forms and services (validated, audited).

A body that is not a valid FHIR R4 resource (fhir.resources' R4B models reject it) is a 400; a valid
resource Palpate cannot take (a missing birth date, an ICD-10-CM code of the wrong shape, a
condition at a region where it cannot occur, no payer) is a 422. Each issue names the element to
fix. A transaction is all or nothing: one bad entry and nothing is saved.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from palpate.core.episodes import check_episode
from palpate.core.errors import InputError
from palpate.core.kb.clinical import knowledge_base
from palpate.interop.fhir.codes import extension_url, palpate_system, region_from_site, system
from palpate.interop.fhir.context import Context
from palpate.interop.fhir.errors import FhirError, forbidden, invalid
from palpate.interop.fhir.registry import Resource
from palpate.patients import services
from palpate.patients.access import patients_for
from palpate.patients.forms import EpisodeForm, PatientForm
from palpate.patients.models import Payer

WRITABLE = ("Patient", "Condition")

PATIENT_FIELDS = {"given_name": "Patient.name[0].given", "family_name": "Patient.name[0].family",
                  "date_of_birth": "Patient.birthDate", "sex": "Patient.gender", "record_number": "Patient.identifier",
                  "phone": "Patient.telecom", "email": "Patient.telecom", "address": "Patient.address"}
CONDITION_FIELDS = {"condition": "Condition.code.coding", "body_region": "Condition.bodySite",
                    "side": "Condition.bodySite.extension", "diagnosis": "Condition.code.text",
                    "icd10_code": "Condition.code.coding", "onset_date": "Condition.onsetDateTime",
                    "referral_source": "Condition.note", "payer": "Condition.extension",
                    "payer_name": "Condition.extension"}


def check_structure(resource_type: str, body: Any, where: str = "") -> None:
    """400 unless ``body`` is a FHIR R4 resource of ``resource_type`` (fhir.resources' R4B models)."""
    if not isinstance(body, dict):
        raise invalid(f"{where}The body must be a JSON object: a FHIR {resource_type} resource.", status=400)
    if body.get("resourceType") != resource_type:
        raise invalid(f"{where}resourceType must be {resource_type!r}, not {body.get('resourceType')!r}.",
                      [f"{resource_type}.resourceType"], status=400)
    try:
        get_fhir_model_class(resource_type).model_validate(body)
    except ValidationError as exc:
        issues = [{"severity": "error", "code": "structure",
                   "diagnostics": f"{where}{'.'.join(str(p) for p in error['loc']) or resource_type}: {error['msg']}",
                   "expression": [f"{resource_type}." + ".".join(str(p) for p in error["loc"])]}
                  for error in exc.errors()[:20]]
        first = issues[0]
        raise FhirError(400, "structure", f"{where}Not a valid FHIR R4 {resource_type}: {first['diagnostics']}",
                        first["expression"], issues=issues[1:]) from None


def _form_problem(form: Any, fields: dict[str, str], where: str) -> FhirError:
    issues = [{"severity": "error", "code": "processing", "diagnostics": f"{where}{field}: {' '.join(errors)}",
               "expression": [fields.get(field, fields[next(iter(fields))].split(".")[0])]}
              for field, errors in form.errors.items()]
    first = issues[0]
    return FhirError(422, "processing", first["diagnostics"], first["expression"], issues=issues[1:])


def patient_input(body: Resource) -> dict[str, Any]:
    names = body.get("name") or [{}]
    name = next((n for n in names if n.get("use") == "official"), names[0])
    telecom = body.get("telecom") or []
    address = (body.get("address") or [{}])[0]
    address_text = address.get("text") or "\n".join([*address.get("line", []), " ".join(
        part for part in (address.get("city"), address.get("state"), address.get("postalCode")) if part)]).strip()
    identifier = next((i.get("value") for i in body.get("identifier") or []
                       if str(i.get("system", "")).endswith("/record-number")), "")
    return {
        "given_name": " ".join(name.get("given") or []),
        "family_name": name.get("family") or "",
        "date_of_birth": body.get("birthDate") or "",
        "sex": body.get("gender") or "",
        "record_number": identifier or "",
        "phone": next((t.get("value") for t in telecom if t.get("system") == "phone"), "") or "",
        "email": next((t.get("value") for t in telecom if t.get("system") == "email"), "") or "",
        "address": address_text,
    }


def _codes(concept: Any, code_system: str) -> list[str]:
    return [c.get("code") for c in (concept or {}).get("coding") or [] if c.get("system") == code_system and c.get("code")]


def condition_input(body: Resource, where: str) -> dict[str, Any]:
    code = body.get("code") or {}
    icd10 = _codes(code, system("icd10cm"))
    if not icd10:
        raise invalid(f"{where}Condition.code needs an ICD-10-CM coding (system {system('icd10cm')}, e.g. M54.50).",
                      ["Condition.code.coding"])
    sites = body.get("bodySite") or []
    region, side = region_from_site(sites[0]) if sites else (None, None)
    if region is None:
        raise invalid(f"{where}Condition.bodySite needs the body region: a coding of {palpate_system('body-region')} "
                      f"(one of {', '.join(knowledge_base().regions.regions)}) or its SNOMED CT code.",
                      ["Condition.bodySite"])
    if side == "?":
        raise invalid(f"{where}The laterality extension must carry SNOMED CT 7771000 (left) or 24028007 (right).",
                      ["Condition.bodySite.extension"])
    condition = next(iter(_codes(code, palpate_system("condition"))), None) or _infer_condition(icd10[0], region, where)
    payer = None
    for extension in body.get("extension") or []:
        if extension.get("url") == extension_url("episode-payer"):
            payer = (extension.get("valueCoding") or {}).get("code")
    if payer not in Payer.values:
        raise invalid(f"{where}Say who pays: add the extension {extension_url('episode-payer')} with a valueCoding "
                      f"code of {', '.join(Payer.values)}.", ["Condition.extension"])
    onset = str(body.get("onsetDateTime") or "")[:10]
    if not onset:
        raise invalid(f"{where}Condition.onsetDateTime is required (the day the problem started).",
                      ["Condition.onsetDateTime"])
    notes = [n.get("text", "") for n in body.get("note") or []]
    referred = next((n.removeprefix("Referred by ").strip() for n in notes if n.startswith("Referred by ")), "")
    referred = referred or ((body.get("asserter") or {}).get("display") or "")
    return {"condition": condition, "body_region": region, "side": side or "", "icd10_code": icd10[0],
            "diagnosis": code.get("text") or next((c.get("display") for c in code.get("coding") or []
                                                    if c.get("system") == system("icd10cm") and c.get("display")),
                                                   icd10[0]),
            "onset_date": onset, "referral_source": referred[:200], "payer": payer, "payer_name": ""}


def _infer_condition(icd10: str, region: str, where: str) -> str:
    """Palpate's condition from the ICD-10-CM family and the region, when exactly one fits."""
    fits = []
    for code, spec in knowledge_base().conditions.items():
        if region in spec.regions and any(icd10.upper().startswith(p.prefix) for p in spec.icd10_family):
            fits.append(code)
    if len(fits) == 1:
        return fits[0]
    choices = ", ".join(fits or knowledge_base().conditions)
    raise invalid(f"{where}Say which of Palpate's conditions this is: add a coding of {palpate_system('condition')} "
                  f"to Condition.code ({choices}).", ["Condition.code.coding"])


def _subject(ctx: Context, body: Resource, created: dict[str, Any], where: str) -> Any:
    ref = str((body.get("subject") or {}).get("reference") or "")
    if ref in created:
        return created[ref]
    kind, _, pk = ref.rpartition("/")
    patient = None
    if kind.rsplit("/", 1)[-1] == "Patient" and pk.isdigit() and len(pk) <= 18:
        patient = patients_for(ctx.actor).filter(pk=int(pk)).first()  # type: ignore[arg-type]
    if patient is None:
        # The same words for a patient that does not exist and one of another clinic.
        raise invalid(f"{where}Condition.subject {ref!r} is not a patient of your clinic: refer to one by "
                      "Patient/<id>, or to the Patient entry of the same transaction by its fullUrl.",
                      ["Condition.subject"])
    return patient


def create_resources(ctx: Context, items: list[tuple[str, Resource, str | None]]) -> list[Resource]:
    """Create every (type, body, fullUrl) in one transaction; returns the created resources as read back."""
    from palpate.interop.fhir.resources.base import patient_resource
    from palpate.interop.fhir.resources.clinical import condition

    try:
        services.check_can_write(ctx.actor)  # type: ignore[arg-type]
    except PermissionDenied:
        raise forbidden("Your role (or your token's scope) does not allow registering patients. A token with scope "
                        "'write' for a member who may register patients is needed.") from None
    many = len(items) > 1
    for index, (kind, body, _) in enumerate(items):
        check_structure(kind, body, f"entry {index}: " if many else "")
    created: dict[str, Any] = {}
    out: list[Resource] = []
    with transaction.atomic():
        for index, (kind, body, full_url) in enumerate(items):
            where = f"entry {index}: " if many else ""
            if kind == "Patient":
                form = PatientForm(patient_input(body), clinic=ctx.clinic)
                if not form.is_valid():
                    raise _form_problem(form, PATIENT_FIELDS, where)
                patient = services.do_create_patient(ctx.actor, form.save(commit=False))  # type: ignore[arg-type]
                ctx.saw(patient.pk)
                if full_url:
                    created[full_url] = patient
                out.append(patient_resource(ctx, patient))
            else:
                patient = _subject(ctx, body, created, where)
                data = condition_input(body, where)
                form = EpisodeForm(data)
                if not form.is_valid():
                    raise _form_problem(form, CONDITION_FIELDS, where)
                try:
                    check_episode(data["condition"], data["body_region"], data["icd10_code"])
                except InputError as exc:
                    field = {"region": "Condition.bodySite", "icd10": "Condition.code.coding"}.get(
                        exc.path or "", "Condition.code")
                    raise invalid(f"{where}{exc.message}", [field]) from None
                episode = form.save(commit=False)
                episode.opened_on = dt.date.today()
                episode = services.do_create_episode(ctx.actor, patient, episode)  # type: ignore[arg-type]
                ctx.saw(patient.pk)
                out.append(condition(ctx, episode))
    return out


def transaction_entries(bundle: Any) -> list[tuple[str, Resource, str | None]]:
    """The (type, body, fullUrl) of each entry of a transaction Bundle, or a 400 saying what is wrong."""
    check_structure("Bundle", bundle)
    if bundle.get("type") != "transaction":
        raise invalid("Only transaction Bundles are accepted here (Bundle.type 'transaction').", ["Bundle.type"],
                      status=400)
    items = []
    for index, item in enumerate(bundle.get("entry") or []):
        request = item.get("request") or {}
        resource = item.get("resource") or {}
        kind = resource.get("resourceType")
        if request.get("method") != "POST" or kind not in WRITABLE or str(request.get("url", "")).strip("/") != kind:
            raise invalid(f"entry {index}: a transaction may only create Patient and Condition resources "
                          "(request.method POST, request.url 'Patient' or 'Condition').",
                          [f"Bundle.entry[{index}].request"], status=400)
        items.append((kind, resource, item.get("fullUrl")))
    if not items:
        raise invalid("The transaction has no entries.", ["Bundle.entry"], status=400)
    return items
