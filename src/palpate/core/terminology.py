"""Standard codes for what leaves Palpate as FHIR: code systems, vital-sign LOINC codes, laterality.

Data with sources in ``kb/terminology.yaml``; a code is handed out only when its status is
``verified`` (:func:`exportable`), so nothing unconfirmed reaches another system as if it were.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType

from palpate.core.errors import KnowledgeBaseError
from palpate.core.kb import KB_VERSION
from palpate.core.kb.loader import load_yaml
from palpate.core.kb.schema import Doc

FILE = "terminology.yaml"
STATUSES = ("verified", "unverified", "not_found")


@dataclass(frozen=True)
class Code:
    system: str
    code: str | None
    display: str
    status: str
    source: str

    @property
    def exportable(self) -> bool:
        return self.code is not None and self.status == "verified"


@dataclass(frozen=True)
class Measured:
    """A measured quantity: its LOINC code (perhaps none) and its UCUM unit."""

    loinc: Code
    unit_code: str
    unit_display: str


@dataclass(frozen=True)
class Terminology:
    systems: Mapping[str, str]
    sources: Mapping[str, str]
    vitals: Mapping[str, Measured]
    range_of_motion: Measured
    laterality: Mapping[str, Code]


@cache
def terminology() -> Terminology:
    doc = Doc(FILE)
    root = doc.mapping(load_yaml(FILE), "")
    doc.known(root, {"kb_version", "sources", "systems", "vitals", "range_of_motion", "laterality"}, "")
    if doc.text(root, "kb_version", "") != KB_VERSION:
        raise KnowledgeBaseError(FILE, "kb_version", f"is {root['kb_version']!r}, but the code expects {KB_VERSION!r}")
    sources = {key: doc.text(doc.mapping(value, f"sources.{key}"), "url", f"sources.{key}")
               for key, value in doc.map_of(root, "sources", "").items()}
    systems = {key: str(value) for key, value in doc.map_of(root, "systems", "").items()}

    def code(node: object, system: str, where: str) -> Code:
        entry = doc.mapping(node, where)
        doc.known(entry, {"code", "display", "status", "source"}, where)
        status = doc.choice(entry, "status", STATUSES, where)
        value = doc.opt_text(entry, "code", where)
        if status == "verified" and value is None:
            doc.fail(where, "a verified entry needs its code")
        return Code(system, value, doc.opt_text(entry, "display", where) or "", status,
                    doc.choice(entry, "source", sources, where))

    def measured(node: object, where: str) -> Measured:
        entry = doc.mapping(node, where)
        doc.known(entry, {"loinc", "unit"}, where)
        unit = doc.mapping(entry.get("unit"), f"{where}.unit")
        return Measured(code(entry.get("loinc"), systems["loinc"], f"{where}.loinc"),
                        doc.text(unit, "code", f"{where}.unit"), doc.text(unit, "display", f"{where}.unit"))

    vitals = {key: measured(value, f"vitals.{key}") for key, value in doc.map_of(root, "vitals", "").items()}
    laterality = {key: code(value, systems["snomed"], f"laterality.{key}")
                  for key, value in doc.map_of(root, "laterality", "").items()}
    return Terminology(MappingProxyType(systems), MappingProxyType(sources), MappingProxyType(vitals),
                       measured(root.get("range_of_motion"), "range_of_motion"), MappingProxyType(laterality))
