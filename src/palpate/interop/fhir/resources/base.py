"""Patient, Practitioner, PractitionerRole, Organization (the clinic) and Group (for bulk export)."""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from palpate.accounts.models import User
from palpate.clinics.models import Clinic, Membership
from palpate.clinics.roles import PATIENT_VIEW, Role
from palpate.interop.fhir.codes import CANONICAL, day, instant, palpate_coding, reference
from palpate.interop.fhir.context import Context
from palpate.interop.fhir.errors import not_found
from palpate.interop.fhir.registry import (
    Include,
    Page,
    Param,
    Resource,
    ResourceType,
    Source,
    last_updated_param,
    register,
)
from palpate.interop.fhir.search import Query
from palpate.interop.models import SystemClient
from palpate.patients.models import Episode, EpisodeStatus, Patient
from palpate.patients.search import search as search_patients


def id_param() -> Param:
    def apply(qs: QuerySet[Any], tokens: Any, source: Source) -> QuerySet[Any]:
        pks = {source.pk_of(token.code or "") for token in tokens} - {None}
        return qs.filter(pk__in=pks)

    return Param("token", "the resource id", db=apply)


def record_number_system(clinic: Any) -> str:
    return f"{CANONICAL}/clinic/{clinic.slug}/record-number"


# -- Patient -------------------------------------------------------------------------------------------


def patient_resource(ctx: Context, patient: Patient) -> Resource:
    resource: Resource = {
        "resourceType": "Patient",
        "id": str(patient.pk),
        "meta": {"lastUpdated": instant(patient.updated_at)},
        "identifier": [{"use": "usual", "system": record_number_system(ctx.clinic), "value": patient.record_number,
                        "type": {"text": "Medical record number"}}],
        "active": True,
        "name": [{"use": "official", "family": patient.family_name, "given": [patient.given_name],
                  "text": patient.full_name}],
        "gender": patient.sex,  # Palpate's values are FHIR's AdministrativeGender codes
        "birthDate": day(patient.date_of_birth),
        "managingOrganization": reference("Organization", ctx.clinic_id, ctx.clinic.name),
    }
    telecom = []
    if patient.phone:
        telecom.append({"system": "phone", "value": patient.phone})
    if patient.email:
        telecom.append({"system": "email", "value": patient.email})
    if telecom:
        resource["telecom"] = telecom
    if patient.address.strip():
        resource["address"] = [{"text": patient.address.strip(), "line": [line.strip() for line in
                                                                          patient.address.splitlines() if line.strip()]}]
    return resource


def _name_filter(qs: QuerySet[Any], raw: str, source: Source) -> QuerySet[Any]:
    return search_patients(qs, raw)  # type: ignore[arg-type]


def _field_contains(field: str) -> Any:
    def apply(qs: QuerySet[Any], raw: str, source: Source) -> QuerySet[Any]:
        return qs.filter(**{f"{field}__istartswith": raw.strip()})

    return apply


def _identifier(qs: QuerySet[Any], tokens: Any, source: Source) -> QuerySet[Any]:
    q = Q(pk__in=[])
    for token in tokens:
        if token.code:
            q |= Q(record_number=token.code)
    return qs.filter(q)


def _birthdate(qs: QuerySet[Any], value: Any, source: Source) -> QuerySet[Any]:
    from palpate.interop.fhir.registry import date_filter

    return qs.filter(date_filter("date_of_birth", False, value))


def _gender(qs: QuerySet[Any], tokens: Any, source: Source) -> QuerySet[Any]:
    return qs.filter(sex__in=[token.code for token in tokens if token.code])


@register
class PatientType(ResourceType):
    name = "Patient"
    permission = PATIENT_VIEW
    description = "The clinic's patients, with their record number"
    patient_compartment = True
    interactions = ("read", "search-type", "create")
    search_params = {
        "_id": id_param(),
        "_lastUpdated": last_updated_param(),
        "name": Param("string", "every word must appear in the name, record number, phone or email", db=_name_filter),
        "family": Param("string", "the last name starts with this", db=_field_contains("family_name")),
        "given": Param("string", "the first name starts with this", db=_field_contains("given_name")),
        "identifier": Param("token", "the record number (system|value or value)", db=_identifier),
        "birthdate": Param("date", "the date of birth", db=_birthdate),
        "gender": Param("token", "female, male, other or unknown", db=_gender),
    }

    def sources(self) -> list[Source]:
        return [Source("", lambda ctx: Patient.objects.filter(clinic_id=ctx.clinic_id), patient_resource,
                       patient="pk", order=("family_name", "given_name", "pk"))]

    def create(self, ctx: Context, body: Resource) -> Resource:
        from palpate.interop.fhir.writes import create_resources

        return create_resources(ctx, [("Patient", body, None)])[0]


# -- Practitioner, PractitionerRole, Organization -----------------------------------------------------


def _staff(ctx: Context) -> QuerySet[Any]:
    """Members of the clinic who are people (system clients are not practitioners)."""
    return (User.objects.filter(memberships__clinic_id=ctx.clinic_id)
            .exclude(Exists(SystemClient.objects.filter(user_id=OuterRef("pk"))))
            .annotate(active_here=Exists(Membership.objects.filter(user_id=OuterRef("pk"), clinic_id=ctx.clinic_id,
                                                                   is_active=True)))
            .distinct())


def practitioner_resource(ctx: Context, user: Any) -> Resource:
    resource: Resource = {
        "resourceType": "Practitioner",
        "id": str(user.pk),
        "meta": {"lastUpdated": instant(user.date_joined)},
        "active": bool(getattr(user, "active_here", True)),
        "name": [{"text": user.display_name()}],
    }
    if user.last_name or user.first_name:
        name = resource["name"][0]
        if user.last_name:
            name["family"] = user.last_name
        if user.first_name:
            name["given"] = [user.first_name]
    return resource


@register
class PractitionerType(ResourceType):
    name = "Practitioner"
    permission = PATIENT_VIEW
    description = "The clinic's staff who document care (not the system clients)"
    search_params = {"_id": id_param(), "name": Param("string", "the name or user name contains this",
                                                      db=lambda qs, raw, source: qs.filter(
                                                          Q(first_name__icontains=raw) | Q(last_name__icontains=raw)
                                                          | Q(username__icontains=raw)))}

    def sources(self) -> list[Source]:
        return [Source("", _staff, practitioner_resource, patient=None, updated="date_joined", order=("pk",))]


def role_resource(ctx: Context, membership: Membership) -> Resource:
    role = Role(membership.role)
    return {
        "resourceType": "PractitionerRole",
        "id": str(membership.pk),
        "meta": {"lastUpdated": instant(membership.created_at)},
        "active": membership.is_active,
        "practitioner": reference("Practitioner", membership.user_id, membership.user.display_name()),
        "organization": reference("Organization", ctx.clinic_id, ctx.clinic.name),
        "code": [{"coding": [palpate_coding("role", role.value, role.label)], "text": role.label}],
    }


@register
class PractitionerRoleType(ResourceType):
    name = "PractitionerRole"
    permission = PATIENT_VIEW
    description = "Each staff member's role in the clinic"
    search_params = {
        "_id": id_param(),
        "practitioner": Param("reference", "the practitioner", target="Practitioner",
                              db=lambda qs, ids, source: qs.filter(user_id__in=[int(i) for i in ids if i.isdigit()])),
    }
    includes = {
        "PractitionerRole:practitioner": Include("Practitioner", lambda r: [r["practitioner"]["reference"]]),
        "PractitionerRole:organization": Include("Organization", lambda r: [r["organization"]["reference"]]),
    }

    def sources(self) -> list[Source]:
        return [Source("", lambda ctx: Membership.objects.filter(clinic_id=ctx.clinic_id).exclude(
            Exists(SystemClient.objects.filter(user_id=OuterRef("user_id")))).select_related("user"),
            role_resource, patient=None, updated="created_at", order=("pk",))]


def organization_resource(ctx: Context, clinic: Clinic) -> Resource:
    return {
        "resourceType": "Organization",
        "id": str(clinic.pk),
        "meta": {"lastUpdated": instant(clinic.created_at)},
        "identifier": [{"system": f"{CANONICAL}/clinic", "value": clinic.slug}],
        "active": True,
        "type": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/organization-type", "code": "prov",
                              "display": "Healthcare Provider"}]}],
        "name": clinic.name,
    }


@register
class OrganizationType(ResourceType):
    name = "Organization"
    permission = PATIENT_VIEW
    description = "The clinic (a token sees its own clinic only)"
    search_params = {"_id": id_param()}

    def sources(self) -> list[Source]:
        return [Source("", lambda ctx: Clinic.objects.filter(pk=ctx.clinic_id), organization_resource, patient=None,
                       updated="created_at", order=("pk",))]


# -- Group: who a group-level export covers ----------------------------------------------------------

GROUPS = {
    "all": "Every patient of the clinic",
    "active-episodes": "Patients with an active episode of care",
}


def group_members(ctx: Context, group_id: str) -> QuerySet[Any]:
    patients = Patient.objects.filter(clinic_id=ctx.clinic_id)
    if group_id == "active-episodes":
        patients = patients.filter(Exists(Episode.objects.filter(clinic_id=ctx.clinic_id, patient_id=OuterRef("pk"),
                                                                 status=EpisodeStatus.ACTIVE)))
    return patients


def group_resource(ctx: Context, group_id: str) -> Resource:
    # A definitional group (actual: false): its members are worked out when an export runs, so
    # reading the group never lists (or audits) thousands of patients.
    return {
        "resourceType": "Group",
        "id": group_id,
        "type": "person",
        "actual": False,
        "name": GROUPS[group_id],
        "quantity": group_members(ctx, group_id).count(),
        "managingEntity": reference("Organization", ctx.clinic_id, ctx.clinic.name),
        "characteristic": [{
            "code": {"coding": [palpate_coding("group", group_id, GROUPS[group_id])], "text": GROUPS[group_id]},
            "valueBoolean": True, "exclude": False}],
    }


@register
class GroupType(ResourceType):
    name = "Group"
    permission = PATIENT_VIEW
    description = "Groups of patients for Group/[id]/$export: " + "; ".join(f"{k}: {v}" for k, v in GROUPS.items())
    search_params = {"_id": id_param()}

    def read_many(self, ctx: Context, ids: Any) -> list[Resource]:
        self.check_read(ctx)
        return [group_resource(ctx, i) for i in dict.fromkeys(ids) if i in GROUPS]

    def search(self, ctx: Context, query: Query) -> Page:
        self.check_read(ctx)
        wanted = [t.code for tokens in query.values("_id") for t in tokens] or list(GROUPS)
        found = self.read_many(ctx, wanted)
        return Page(found[query.offset:query.offset + query.count], len(found) > query.offset + query.count,
                    len(found))

    def read(self, ctx: Context, resource_id: str) -> Resource:
        found = self.read_many(ctx, [resource_id])
        if not found:
            raise not_found("Group", resource_id)
        return found[0]

    def sources(self) -> list[Source]:
        return []
