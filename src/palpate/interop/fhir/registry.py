"""The resource registry: every FHIR resource type Palpate serves, declared once.

A resource type says which permission reading it needs, which search parameters and includes it
supports, whether it belongs to a patient (``Patient/$everything`` and patient-level export), and
how its resources are built from rows (``sources``). Everything generic (read, search with paging,
``_include``, ``$everything``, bulk export, the CapabilityStatement) works from these declarations,
so a new resource type is one module with one class and one line in ``BUILTIN``.

Writes are optional per type: a type that sets ``create``/``update``/``delete`` in ``interactions``
implements the method of the same name (raising ``FhirError(409, "conflict", ...)`` for a
conflict); the views route POST/PUT/DELETE to it and list it in the CapabilityStatement.
"""

from __future__ import annotations

import heapq
import importlib
import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from django.db.models import Q, QuerySet

from palpate.interop.fhir.context import Context
from palpate.interop.fhir.errors import FhirError, not_found
from palpate.interop.fhir.search import (
    ID_PATTERN,
    DateRange,
    Query,
    Token,
    parse_date,
    parse_reference,
    parse_tokens,
)

Resource = dict[str, Any]
SortKey = tuple[Any, ...]

# Resource type modules, in the order the CapabilityStatement lists them.
BUILTIN = (
    "palpate.interop.fhir.resources.base",
    "palpate.interop.fhir.resources.clinical",
    "palpate.interop.fhir.resources.observations",
    "palpate.interop.fhir.resources.questionnaires",
    "palpate.interop.fhir.resources.care",
    "palpate.interop.fhir.resources.appointment",
    "palpate.interop.fhir.resources.documents",
    "palpate.interop.fhir.resources.conformance",
)

REGISTRY: dict[str, ResourceType] = {}


def register(cls: type[ResourceType]) -> type[ResourceType]:
    REGISTRY[cls.name] = cls()
    return cls


def load_builtin() -> None:
    for module in BUILTIN:
        importlib.import_module(module)


def resource_type(name: str) -> ResourceType:
    found = REGISTRY.get(name)
    if found is None:
        raise FhirError(404, "not-supported",
                        f"Palpate does not serve {name!r} resources. It serves: {', '.join(sorted(REGISTRY))} "
                        "(see /fhir/R4/metadata).")
    return found


@dataclass(frozen=True)
class Param:
    """A search parameter: its FHIR type and what it means here (the CapabilityStatement shows both)."""

    type: str  # date, token, reference, string
    documentation: str
    # Applies the parsed values to a source's queryset; None: matched on the built resource instead.
    db: Callable[[QuerySet[Any], Any, Source], QuerySet[Any]] | None = None
    # Matches one built resource against the parsed value (used when ``db`` is None).
    match: Callable[[Resource, Any], bool] | None = None
    target: str = ""  # reference parameters: the resource type referred to


@dataclass(frozen=True)
class Include:
    """``_include=<Type>:<name>``: the resources referred to by ``element`` of each match."""

    target: str
    references: Callable[[Resource], list[str]]


@dataclass
class Source:
    """Rows of one model that become resources of a type: one each, or several (an evaluation's observations)."""

    prefix: str  # id prefix ("" for plain primary keys): "visit" makes "visit-12" and "visit-12-bp"
    queryset: Callable[[Context], QuerySet[Any]]  # tenant-filtered, with what ``build`` needs joined
    build: Callable[[Context, Any], Any]  # one resource, or a list of them
    patient: str | None = "patient_id"  # the field holding the row's patient, None for non-patient rows
    date: str | None = None  # the field the ``date`` parameter compares (a DateField or DateTimeField)
    updated: str | None = "updated_at"  # the field meta.lastUpdated is taken from
    order: tuple[str, ...] = ("-pk",)
    # Parameters this source cannot satisfy at all (e.g. a status no row of it can have).
    db_params: dict[str, Callable[[QuerySet[Any], Any], QuerySet[Any]]] = field(default_factory=dict)
    rank: int = 0  # breaks date ties between sources of one type
    one_per_row: bool = True  # False when a row can give several resources, or none (then no total)

    def pk_of(self, resource_id: str) -> int | None:
        """The row's primary key for one of this source's ids, or None if the id is not this source's."""
        text = resource_id
        if self.prefix:
            if not text.startswith(self.prefix + "-"):
                return None
            text = text[len(self.prefix) + 1:]
        head = text.split("-", 1)[0]
        return int(head) if head.isdigit() and len(head) <= 18 else None

    def sort_key(self, row: Any) -> SortKey:
        value = _path(row, self.date) if self.date else None
        return (str(value) if value is not None else "", self.rank, row.pk)


def _path(row: Any, path: str) -> Any:
    value = row
    for part in path.split("__"):
        value = getattr(value, part, None)
        if value is None:
            return None
    return value


def date_filter(field_name: str, is_datetime: bool, value: DateRange) -> Q:
    """The comparison as a database filter on a date or datetime column (a day is the interval it spans)."""
    start: Any = value.start if is_datetime else value.start.date()
    end: Any = value.end if is_datetime else _ceil_day(value.end)
    if value.prefix == "eq":
        return Q(**{f"{field_name}__gte": start, f"{field_name}__lt": end})
    if value.prefix == "ne":
        return ~Q(**{f"{field_name}__gte": start, f"{field_name}__lt": end})
    if value.prefix == "gt":
        return Q(**{f"{field_name}__gte": end})
    if value.prefix == "lt":
        return Q(**{f"{field_name}__lt": start})
    if value.prefix == "ge":
        return Q(**{f"{field_name}__gte": start})
    return Q(**{f"{field_name}__lt": end})


def _ceil_day(moment: Any) -> Any:
    import datetime as dt

    return moment.date() if moment.time() == dt.time(0) else moment.date() + dt.timedelta(days=1)


def _is_datetime(qs: QuerySet[Any], path: str) -> bool:
    from django.db import models

    model = qs.model
    parts = path.split("__")
    for part in parts[:-1]:
        model = model._meta.get_field(part).related_model
    return isinstance(model._meta.get_field(parts[-1]), models.DateTimeField)


@dataclass
class Page:
    resources: list[Resource]
    has_more: bool
    total: int | None = None


class ResourceType:
    name: ClassVar[str] = ""
    permission: ClassVar[str] = ""
    description: ClassVar[str] = ""
    patient_compartment: ClassVar[bool] = False
    interactions: ClassVar[tuple[str, ...]] = ("read", "search-type")
    search_params: ClassVar[dict[str, Param]] = {}
    includes: ClassVar[dict[str, Include]] = {}
    profile: ClassVar[str | None] = None  # a StructureDefinition the resources follow, if any

    # -- the rows ----------------------------------------------------------------------------------
    def sources(self) -> list[Source]:
        raise NotImplementedError

    def check_read(self, ctx: Context) -> None:
        ctx.require(self.permission, f"{self.name} resources")

    # -- read --------------------------------------------------------------------------------------
    def read(self, ctx: Context, resource_id: str) -> Resource:
        found = self.read_many(ctx, [resource_id])
        if not found:
            raise not_found(self.name, resource_id)
        return found[0]

    def read_many(self, ctx: Context, ids: Iterable[str]) -> list[Resource]:
        self.check_read(ctx)
        wanted = [i for i in dict.fromkeys(ids) if ID_PATTERN.match(i)]
        out: dict[str, Resource] = {}
        for source in self.sources():
            pks = {source.pk_of(i) for i in wanted} - {None}
            if not pks:
                continue
            for row in source.queryset(ctx).filter(pk__in=pks):
                for resource in self._built(ctx, source, row):
                    if resource["id"] in wanted:
                        out[resource["id"]] = resource
        return [out[i] for i in wanted if i in out]

    def _built(self, ctx: Context, source: Source, row: Any) -> list[Resource]:
        if source.patient:
            ctx.saw(_path(row, source.patient))
        built = source.build(ctx, row)
        return [built] if isinstance(built, dict) else built

    # -- search ------------------------------------------------------------------------------------
    def parse(self, name: str, raw: str) -> Any:
        param = self.search_params[name]
        if param.type == "date":
            return parse_date(name, raw)
        if param.type == "reference":
            return parse_reference(name, raw, param.target)
        if param.type == "token":
            return parse_tokens(name, raw)
        return raw

    def search(self, ctx: Context, query: Query) -> Page:
        self.check_read(ctx)
        streams = []
        python_checks: list[tuple[Param, Any]] = []
        exact = True  # every parameter applied in the database: the total is a count
        for name, values in query.params.items():
            param = self.search_params.get(name)
            if param is not None and param.db is None:
                python_checks += [(param, value) for value in values]
                exact = False
        querysets = []
        for source in self.sources():
            qs = self.filtered(ctx, source, query)
            if qs is None:
                continue
            querysets.append((source, qs))
        single_rows = all(getattr(source, "one_per_row", False) for source, _ in querysets)
        need = query.offset + query.count + 1
        for source, qs in querysets:
            streams.append(self._stream(ctx, source, qs, python_checks, need))
        merged = heapq.merge(*streams, key=lambda pair: pair[0], reverse=True)
        window = list(itertools.islice(merged, query.offset, need))
        total = None
        if exact and single_rows:
            total = sum(qs.count() for _, qs in querysets)
        return Page([resource for _, resource in window[:query.count]], len(window) > query.count, total)

    def filtered(self, ctx: Context, source: Source, query: Query) -> QuerySet[Any] | None:
        """The source's rows narrowed by every parameter it can apply in the database; None if it can have none."""
        qs = source.queryset(ctx)
        for name, values in query.params.items():
            param = self.search_params.get(name)
            for value in values:
                if name == "_lastUpdated":
                    if source.updated is None:
                        continue
                    qs = qs.filter(date_filter(source.updated, True, value))
                elif param is not None and param.db is not None:
                    result = param.db(qs, value, source)
                    if result is None:
                        return None
                    qs = result
        return qs.order_by(*source.order)

    def _stream(self, ctx: Context, source: Source, qs: QuerySet[Any], checks: list[tuple[Param, Any]],
                need: int) -> Iterator[tuple[SortKey, Resource]]:
        produced = 0
        start, size = 0, max(need, 20)
        while True:
            rows = list(qs[start:start + size])
            for row in rows:
                key = source.sort_key(row)
                built = self._built(ctx, source, row)
                for index, resource in enumerate(built):
                    if all(param.match is not None and param.match(resource, value) for param, value in checks):
                        produced += 1
                        yield (*key, -index), resource
            if len(rows) < size:
                return
            start += size
            size *= 2

    # -- a patient's resources, all of them (Patient/$everything, bulk export) -------------------------
    def stream(self, ctx: Context, patient_ids: list[int] | None, since: Any = None,
               chunk: int = 1000) -> Iterator[Resource]:
        """Every resource of the clinic (or of these patients), read in chunks: memory stays flat."""
        for source in self.sources():
            qs = source.queryset(ctx)
            if patient_ids is not None:
                if source.patient is None:
                    continue
                qs = qs.filter(**{f"{source.patient}__in": patient_ids})
            if since is not None and source.updated is not None:
                qs = qs.filter(**{f"{source.updated}__gt": since})
            for row in qs.order_by("pk").iterator(chunk_size=chunk):
                yield from self._built(ctx, source, row)


# -- parameters most types share ----------------------------------------------------------------------


def patient_param(documentation: str = "the patient (Patient/123 or 123)") -> Param:
    def apply(qs: QuerySet[Any], ids: list[str], source: Source) -> QuerySet[Any]:
        if source.patient is None:
            return qs.none()
        pks = [int(i) for i in ids if i.isdigit() and len(i) <= 18]
        return qs.filter(**{f"{source.patient}__in": pks})

    return Param("reference", documentation, db=apply, target="Patient")


def date_param(documentation: str) -> Param:
    def apply(qs: QuerySet[Any], value: DateRange, source: Source) -> QuerySet[Any]:
        if source.date is None:
            return qs.none()
        return qs.filter(date_filter(source.date, _is_datetime(qs, source.date), value))

    return Param("date", documentation, db=apply)


def last_updated_param() -> Param:
    return Param("date", "when the record last changed (meta.lastUpdated)", db=lambda qs, value, source: qs)


def token_param(documentation: str, element: Callable[[Resource], Iterable[dict[str, Any]]]) -> Param:
    """A token parameter matched on the built resource's codings."""

    def match(resource: Resource, tokens: list[Token]) -> bool:
        codings = list(element(resource))
        return any(token.matches(codings) for token in tokens)

    return Param("token", documentation, match=match)


def code_token_param(documentation: str, value: Callable[[Resource], str | None]) -> Param:
    """A token parameter over a plain code element (status): ``system|`` is not meaningful for it."""

    def match(resource: Resource, tokens: list[Token]) -> bool:
        own = value(resource)
        return any(token.code is None or token.code == own for token in tokens)

    return Param("token", documentation, match=match)


def codings(concept: Any) -> list[dict[str, Any]]:
    if isinstance(concept, list):
        return [c for item in concept for c in codings(item)]
    if isinstance(concept, dict):
        return list(concept.get("coding") or [])
    return []


def ref_ids(*values: Any) -> list[str]:
    out = []
    for value in values:
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, dict) and isinstance(item.get("reference"), str):
                out.append(item["reference"])
    return out
