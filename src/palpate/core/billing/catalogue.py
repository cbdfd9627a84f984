"""The billing knowledge base (``kb/billing.yaml``) as validated, frozen data.

Everything billing knows (codes, payer settings, NCCI pairs, evaluation levels, KX thresholds) is
data with a source, an evidence grade and a verification status, so a biller can see why a value is
what it is and a clinic can change it without touching code. ``catalogue()`` loads and validates the
file once per process; a malformed file fails with the file, the key and the problem.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from palpate.core.errors import InputError, KnowledgeBaseError
from palpate.core.kb.loader import load_yaml, optional, require

KB_FILE = "billing.yaml"

GRADES = ("A", "B", "C", "policy")
STATUSES = ("verified", "partial", "derived", "unverified", "doubtful", "policy")

# The vocabulary (shared/contract/vocabulary.md) every technique and therapy of which must map to a
# billing code (possibly none, but then explicitly so).
TECHNIQUES = ("effleurage", "petrissage", "friction", "myofascial_release", "trigger_point")
THERAPIES = ("therapeutic_exercise", "joint_mobilisation", "neuromuscular_reeducation", "postural_training",
             "electrical_stimulation", "heat", "cold")


class Rule(StrEnum):
    """How timed minutes become units; a payer setting (facts.md F.2)."""

    CMS = "cms"
    PER_CODE = "per_code"


class Level(StrEnum):
    """Evaluation complexity levels, in increasing order."""

    LOW = "low"
    MODERATE = "moderate"
    HIGH = "high"

    @property
    def rank(self) -> int:
        return _LEVEL_ORDER.index(self)


_LEVEL_ORDER = (Level.LOW, Level.MODERATE, Level.HIGH)


@dataclass(frozen=True)
class Source:
    key: str
    title: str
    url: str
    grade: str

    @property
    def citation(self) -> str:
        return f"{self.title} <{self.url}>" if self.url else self.title


@dataclass(frozen=True)
class Evidence:
    """Where a value comes from, how strong the source is and whether it was verified."""

    source: Source
    grade: str
    status: str

    def as_json(self) -> dict[str, str]:
        return {"source": self.source.citation, "grade": self.grade, "status": self.status}


@dataclass(frozen=True)
class CptCode:
    code: str
    descriptor: str
    timed: bool
    typical_minutes: int | None
    evidence: Evidence


@dataclass(frozen=True)
class RuleInfo:
    rule: Rule
    description: str
    evidence: Evidence


@dataclass(frozen=True)
class UnitTableRow:
    units: int
    minutes_from: int
    minutes_through: int


@dataclass(frozen=True)
class PayerCodeNote:
    code: str
    kind: str  # "use_other_code" or "bundled"
    replacement: str | None
    message: str
    evidence: Evidence


@dataclass(frozen=True)
class Payer:
    name: str
    rule: Rule
    # The payer mandates its rule (Medicare's own manual): a clinic's default does not change it.
    rule_fixed: bool
    kx_applies: bool
    code_notes: tuple[PayerCodeNote, ...]
    evidence: Evidence


@dataclass(frozen=True)
class CodeMapping:
    """Which codes a technique or complementary therapy is reported under."""

    name: str
    codes: tuple[str, ...]
    evidence: Evidence


@dataclass(frozen=True)
class NcciPair:
    column1: str
    column2: str
    modifier_allowed: bool
    modifier_required: bool
    modifiers: tuple[str, ...]
    note: str
    warn: bool
    evidence: Evidence


@dataclass(frozen=True)
class EvaluationRules:
    codes: Mapping[Level, str]
    history_at_least: Mapping[Level, int]
    examination_at_least: Mapping[Level, int]
    presentation: Mapping[str, Level]
    decision: Mapping[str, Level]
    evidence: Evidence


@dataclass(frozen=True)
class KxThreshold:
    year: int
    amount: Decimal
    evidence: Evidence


@dataclass(frozen=True)
class KxRules:
    thresholds: Mapping[int, KxThreshold]
    review_amount: Decimal
    review_through_year: int
    review_evidence: Evidence
    approaching_fraction: Decimal
    approaching_evidence: Evidence


@dataclass(frozen=True)
class Catalogue:
    version: str
    sources: Mapping[str, Source]
    unit_minutes: int
    min_minutes: int
    unit_arithmetic_evidence: Evidence
    unit_table: tuple[UnitTableRow, ...]
    unit_table_evidence: Evidence
    rules: Mapping[Rule, RuleInfo]
    max_minutes: int
    max_minutes_evidence: Evidence
    payers: Mapping[str, Payer]
    codes: Mapping[str, CptCode]
    mapping: Mapping[str, CodeMapping]
    modifiers: Mapping[str, str]
    modifiers_evidence: Source
    ncci_pairs: tuple[NcciPair, ...]
    evaluation: EvaluationRules
    kx: KxRules

    def code(self, code: str) -> CptCode | None:
        return self.codes.get(code)


@functools.cache
def catalogue() -> Catalogue:
    """The validated billing knowledge base, loaded once per process."""
    return parse_catalogue(load_yaml(KB_FILE), KB_FILE)


def parse_catalogue(doc: Any, filename: str = KB_FILE) -> Catalogue:
    """Validate a parsed ``billing.yaml`` document; every problem names the file and the key."""
    return _Parser(doc, filename).catalogue()


class _Parser:
    def __init__(self, doc: Any, filename: str) -> None:
        if not isinstance(doc, dict):
            raise KnowledgeBaseError(filename, "-", "expected a mapping at the top level")
        self.doc = doc
        self.file = filename
        self.sources: dict[str, Source] = {}

    def fail(self, key: str, problem: str) -> KnowledgeBaseError:
        return KnowledgeBaseError(self.file, key, problem)

    def catalogue(self) -> Catalogue:
        doc, f = self.doc, self.file
        version = str(require(doc, "version", (str, int, float), f, ""))
        self._sources(require(doc, "sources", dict, f, ""))

        arith = require(doc, "unit_arithmetic", dict, f, "")
        unit_minutes = self._positive_int(arith, "unit_minutes", "unit_arithmetic")
        min_minutes = self._positive_int(arith, "min_minutes", "unit_arithmetic")
        if min_minutes > unit_minutes:
            raise self.fail("unit_arithmetic.min_minutes", "must not exceed unit_minutes")
        table = self._unit_table(require(doc, "unit_table", dict, f, ""), unit_minutes, min_minutes)

        rules = self._rules(require(doc, "rules", dict, f, ""))
        limits = require(doc, "limits", dict, f, "")
        max_minutes = self._positive_int(limits, "max_minutes", "limits")
        codes = self._codes(require(doc, "codes", dict, f, ""))
        payers = self._payers(require(doc, "payers", dict, f, ""), codes)
        mapping = self._mapping(require(doc, "mapping", dict, f, ""), codes)
        ncci = require(doc, "ncci", dict, f, "")
        modifiers = self._modifiers(require(ncci, "modifiers", dict, f, "ncci"))
        pairs = self._pairs(require(ncci, "pairs", list, f, "ncci"), codes, modifiers)
        evaluation = self._evaluation(require(doc, "evaluation", dict, f, ""), codes)
        kx = self._kx(require(doc, "kx", dict, f, ""))
        return Catalogue(
            version=version,
            sources=MappingProxyType(self.sources),
            unit_minutes=unit_minutes,
            min_minutes=min_minutes,
            unit_arithmetic_evidence=self._evidence(arith, "unit_arithmetic"),
            unit_table=table,
            unit_table_evidence=self._evidence(doc["unit_table"], "unit_table"),
            rules=rules,
            max_minutes=max_minutes,
            max_minutes_evidence=self._evidence(limits, "limits"),
            payers=payers,
            codes=codes,
            mapping=mapping,
            modifiers=modifiers,
            modifiers_evidence=self._source_ref(ncci, "modifiers_source", "ncci"),
            ncci_pairs=pairs,
            evaluation=evaluation,
            kx=kx,
        )

    # -- small checks -----------------------------------------------------------------------------

    def _positive_int(self, mapping: Any, key: str, where: str) -> int:
        value: int = require(mapping, key, int, self.file, where)
        if value <= 0:
            raise self.fail(f"{where}.{key}", "must be a positive whole number")
        return value

    def _str(self, mapping: Any, key: str, where: str) -> str:
        value: str = require(mapping, key, str, self.file, where)
        if not value.strip():
            raise self.fail(f"{where}.{key}", "must not be empty")
        return value

    def _bool(self, mapping: Any, key: str, where: str) -> bool:
        value: bool = require(mapping, key, bool, self.file, where)
        return value

    def _source_ref(self, mapping: Any, key: str, where: str) -> Source:
        ref = self._str(mapping, key, where)
        if ref not in self.sources:
            raise self.fail(f"{where}.{key}", f"unknown source {ref!r}; add it under `sources`")
        return self.sources[ref]

    def _evidence(self, mapping: Any, where: str) -> Evidence:
        source = self._source_ref(mapping, "source", where)
        grade = str(require(mapping, "grade", str, self.file, where))
        if grade not in GRADES:
            raise self.fail(f"{where}.grade", f"must be one of {', '.join(GRADES)}, got {grade!r}")
        status = self._str(mapping, "status", where)
        if status not in STATUSES:
            raise self.fail(f"{where}.status", f"must be one of {', '.join(STATUSES)}, got {status!r}")
        return Evidence(source=source, grade=grade, status=status)

    def _code_ref(self, value: Any, where: str, codes: Mapping[str, CptCode]) -> str:
        if not isinstance(value, str):
            raise self.fail(where, f"a code must be a quoted string, got {type(value).__name__}")
        if value not in codes:
            raise self.fail(where, f"code {value!r} is not in `codes`")
        return value

    # -- sections ---------------------------------------------------------------------------------

    def _sources(self, raw: dict[Any, Any]) -> None:
        for key, entry in raw.items():
            where = f"sources.{key}"
            if not isinstance(key, str):
                raise self.fail(where, "source ids must be strings")
            grade = str(require(entry, "grade", str, self.file, where))
            if grade not in GRADES:
                raise self.fail(f"{where}.grade", f"must be one of {', '.join(GRADES)}, got {grade!r}")
            self.sources[key] = Source(key=key, title=self._str(entry, "title", where),
                                       url=str(optional(entry, "url", str, self.file, where, "")), grade=grade)

    def _unit_table(self, raw: dict[str, Any], unit: int, least: int) -> tuple[UnitTableRow, ...]:
        rows = []
        for i, row in enumerate(require(raw, "rows", list, self.file, "unit_table")):
            where = f"unit_table.rows[{i}]"
            parsed = UnitTableRow(units=self._positive_int(row, "units", where),
                                  minutes_from=self._positive_int(row, "from", where),
                                  minutes_through=self._positive_int(row, "through", where))
            # The published table and the arithmetic must agree, or one of them was mistyped.
            for minutes in (parsed.minutes_from - 1, parsed.minutes_from, parsed.minutes_through,
                            parsed.minutes_through + 1):
                expected = parsed.units if parsed.minutes_from <= minutes <= parsed.minutes_through else None
                got = 0 if minutes < least else (minutes + unit - least) // unit
                if expected is not None and got != expected:
                    raise self.fail(where, f"{minutes} minutes give {got} units by unit_arithmetic, table says {expected}")
                if expected is None and got == parsed.units:
                    raise self.fail(where, f"{minutes} minutes also give {got} units: the row's bounds are wrong")
            rows.append(parsed)
        if not rows:
            raise self.fail("unit_table.rows", "must list at least one row")
        return tuple(rows)

    def _rules(self, raw: dict[str, Any]) -> Mapping[Rule, RuleInfo]:
        rules = {}
        for rule in Rule:
            where = f"rules.{rule.value}"
            entry = require(raw, rule.value, dict, self.file, "rules")
            rules[rule] = RuleInfo(rule=rule, description=self._str(entry, "description", where),
                                   evidence=self._evidence(entry, where))
        return MappingProxyType(rules)

    def _codes(self, raw: dict[Any, Any]) -> Mapping[str, CptCode]:
        codes = {}
        for key, entry in raw.items():
            if not isinstance(key, str):
                raise self.fail(f"codes.{key}", "a code must be a quoted string (an unquoted 97140 loads as a number)")
            where = f"codes.{key}"
            typical = optional(entry, "typical_minutes", int, self.file, where)
            codes[key] = CptCode(code=key, descriptor=self._str(entry, "descriptor", where),
                                 timed=self._bool(entry, "timed", where), typical_minutes=typical,
                                 evidence=self._evidence(entry, where))
        if not codes:
            raise self.fail("codes", "must list at least one code")
        return MappingProxyType(codes)

    def _payers(self, raw: dict[Any, Any], codes: Mapping[str, CptCode]) -> Mapping[str, Payer]:
        payers = {}
        for name, entry in raw.items():
            where = f"payers.{name}"
            rule_name = self._str(entry, "rule", where)
            if rule_name not in {r.value for r in Rule}:
                raise self.fail(f"{where}.rule", f"unknown rule {rule_name!r}")
            notes = []
            for code, note in require(entry, "code_notes", dict, self.file, where).items():
                nwhere = f"{where}.code_notes.{code}"
                self._code_ref(code, nwhere, codes)
                kind = self._str(note, "kind", nwhere)
                if kind not in ("use_other_code", "bundled"):
                    raise self.fail(f"{nwhere}.kind", "must be use_other_code or bundled")
                replacement = optional(note, "replacement", str, self.file, nwhere)
                if kind == "use_other_code":
                    if replacement is None:
                        raise self.fail(f"{nwhere}.replacement", "use_other_code needs a replacement code")
                    self._code_ref(replacement, f"{nwhere}.replacement", codes)
                notes.append(PayerCodeNote(code=code, kind=kind, replacement=replacement,
                                           message=self._str(note, "message", nwhere),
                                           evidence=self._evidence(note, nwhere)))
            rule_fixed = optional(entry, "rule_fixed", bool, self.file, where, False)
            payers[str(name)] = Payer(name=str(name), rule=Rule(rule_name), rule_fixed=rule_fixed,
                                      kx_applies=self._bool(entry, "kx_applies", where),
                                      code_notes=tuple(notes), evidence=self._evidence(entry, where))
        return MappingProxyType(payers)

    def _mapping(self, raw: dict[Any, Any], codes: Mapping[str, CptCode]) -> Mapping[str, CodeMapping]:
        result = {}
        for name in (*TECHNIQUES, *THERAPIES):
            if name not in raw:
                raise self.fail(f"mapping.{name}", "every vocabulary technique and therapy needs an entry (codes: [] if none)")
        for name, entry in raw.items():
            where = f"mapping.{name}"
            mapped = tuple(self._code_ref(c, f"{where}.codes[{i}]", codes)
                           for i, c in enumerate(require(entry, "codes", list, self.file, where)))
            result[str(name)] = CodeMapping(name=str(name), codes=mapped, evidence=self._evidence(entry, where))
        return MappingProxyType(result)

    def _modifiers(self, raw: dict[Any, Any]) -> Mapping[str, str]:
        modifiers = {}
        for key, meaning in raw.items():
            if not isinstance(key, str) or not isinstance(meaning, str):
                raise self.fail(f"ncci.modifiers.{key}", "a modifier is a quoted string with its meaning")
            modifiers[key] = meaning
        return MappingProxyType(modifiers)

    def _pairs(self, raw: list[Any], codes: Mapping[str, CptCode], modifiers: Mapping[str, str]) -> tuple[NcciPair, ...]:
        pairs = []
        seen: set[frozenset[str]] = set()
        for i, entry in enumerate(raw):
            where = f"ncci.pairs[{i}]"
            first = self._code_ref(require(entry, "column1", str, self.file, where), f"{where}.column1", codes)
            second = self._code_ref(require(entry, "column2", str, self.file, where), f"{where}.column2", codes)
            if first == second or frozenset((first, second)) in seen:
                raise self.fail(where, f"pair {first}/{second} is listed twice or pairs a code with itself")
            seen.add(frozenset((first, second)))
            mods = tuple(require(entry, "modifiers", list, self.file, where))
            for j, mod in enumerate(mods):
                if mod not in modifiers:
                    raise self.fail(f"{where}.modifiers[{j}]", f"unknown modifier {mod!r}; define it under ncci.modifiers")
            allowed = self._bool(entry, "modifier_allowed", where)
            if allowed and not mods:
                raise self.fail(f"{where}.modifiers", "a pair that allows a modifier must name it")
            pairs.append(NcciPair(column1=first, column2=second, modifier_allowed=allowed,
                                  modifier_required=self._bool(entry, "modifier_required", where),
                                  modifiers=mods, note=self._str(entry, "note", where),
                                  warn=self._bool(entry, "warn", where), evidence=self._evidence(entry, where)))
        return tuple(pairs)

    def _levels(self, raw: Any, where: str) -> dict[Level, Any]:
        if not isinstance(raw, dict) or set(raw) != {lv.value for lv in Level}:
            raise self.fail(where, "must give exactly low, moderate and high")
        return {lv: raw[lv.value] for lv in Level}

    def _evaluation(self, raw: dict[str, Any], codes: Mapping[str, CptCode]) -> EvaluationRules:
        where = "evaluation"
        eval_codes = self._levels(require(raw, "codes", dict, self.file, where), f"{where}.codes")
        for level, code in eval_codes.items():
            self._code_ref(code, f"{where}.codes.{level.value}", codes)
        thresholds = {}
        for key in ("history_at_least", "examination_at_least"):
            levels = self._levels(require(raw, key, dict, self.file, where), f"{where}.{key}")
            values = [levels[lv] for lv in _LEVEL_ORDER]
            if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in values) or values != sorted(set(values)):
                raise self.fail(f"{where}.{key}", "must be whole numbers rising from low to high")
            thresholds[key] = MappingProxyType(levels)
        maps = {}
        for key in ("presentation", "decision"):
            entry = require(raw, key, dict, self.file, where)
            if not entry or any(v not in {lv.value for lv in Level} for v in entry.values()):
                raise self.fail(f"{where}.{key}", "each answer must map to low, moderate or high")
            maps[key] = MappingProxyType({str(k): Level(v) for k, v in entry.items()})
        return EvaluationRules(codes=MappingProxyType(eval_codes), history_at_least=thresholds["history_at_least"],
                               examination_at_least=thresholds["examination_at_least"],
                               presentation=maps["presentation"], decision=maps["decision"],
                               evidence=self._evidence(raw, where))

    def _money(self, mapping: Any, key: str, where: str) -> Decimal:
        value = require(mapping, key, (int, float), self.file, where)
        amount = Decimal(str(value))
        if amount <= 0:
            raise self.fail(f"{where}.{key}", "must be a positive amount")
        return amount

    def _kx(self, raw: dict[str, Any]) -> KxRules:
        thresholds: dict[int, KxThreshold] = {}
        for i, entry in enumerate(require(raw, "thresholds", list, self.file, "kx")):
            where = f"kx.thresholds[{i}]"
            year = self._positive_int(entry, "year", where)
            if year in thresholds:
                raise self.fail(f"{where}.year", f"year {year} is listed twice")
            thresholds[year] = KxThreshold(year=year, amount=self._money(entry, "amount", where),
                                           evidence=self._evidence(entry, where))
        if not thresholds:
            raise self.fail("kx.thresholds", "must list at least one year")
        review = require(raw, "review", dict, self.file, "kx")
        approaching = require(raw, "approaching", dict, self.file, "kx")
        fraction = Decimal(str(require(approaching, "fraction", (int, float), self.file, "kx.approaching")))
        if not 0 < fraction <= 1:
            raise self.fail("kx.approaching.fraction", "must be above 0 and at most 1")
        return KxRules(thresholds=MappingProxyType(dict(sorted(thresholds.items()))),
                       review_amount=self._money(review, "amount", "kx.review"),
                       review_through_year=self._positive_int(review, "through_year", "kx.review"),
                       review_evidence=self._evidence(review, "kx.review"),
                       approaching_fraction=fraction,
                       approaching_evidence=self._evidence(approaching, "kx.approaching"))


def codes_for_technique(technique: str, payer: str | None = None, cat: Catalogue | None = None) -> tuple[str, ...]:
    """The codes a soft-tissue technique or complementary therapy is reported under.

    facts.md D/F.1: effleurage and petrissage are massage (97124); friction, myofascial release and
    trigger-point therapy are manual therapy (97140). With a payer, codes the payer does not recognise
    are swapped for its replacement (Medicare: 97014 -> G0283). An empty tuple means the fact base
    names no code and the therapist chooses.
    """
    cat = cat or catalogue()
    entry = cat.mapping.get(technique)
    if entry is None:
        raise InputError("unknown_code", f"unknown technique or therapy {technique!r}; use {', '.join(cat.mapping)}",
                         "technique")
    if payer is None:
        return entry.codes
    found = cat.payers.get(payer)
    if found is None:
        raise InputError("unknown_code", f"unknown payer {payer!r}; use {', '.join(cat.payers)}", "payer")
    swaps = {n.code: n.replacement for n in found.code_notes if n.kind == "use_other_code" and n.replacement}
    return tuple(dict.fromkeys(swaps.get(code, code) for code in entry.codes))
