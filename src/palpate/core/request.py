"""The ``palpate.plan/1`` request: typed form and validation.

:func:`parse_request` is the one door from JSON to the engine. Anything a person could get wrong
raises :class:`InputError` with a path into the request (``findings[1].side``): unknown codes,
unknown keys (a misspelt ``finding`` must never silently drop a contraindication), wrong types
(``true`` is not a number), impossible values (a temperature of 80 °C, onset -3 days), a paired
region without its side or a midline region with one. ``null`` means the same as an absent key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from math import isfinite
from typing import Any, NoReturn

from palpate.core.episodes import check_condition_region
from palpate.core.errors import InputError
from palpate.core.kb.clinical import (
    IRRITABILITIES,
    PRESSURES,
    SIDES,
    WHOLE_BODY,
    ClinicalKB,
    knowledge_base,
)
from palpate.core.policy import check_overrides
from palpate.core.regions import side_problem

CONTRACT = "palpate.plan/1"
SEXES = ("female", "male", "other", "unknown")
RELIEF = ("good", "some", "none")
# How a number is named in an error message a clinician reads (the field name follows it too).
READABLE = {
    "temperature_c": ("body temperature", "°C"),
    "bp_systolic": ("systolic blood pressure", "mmHg"),
    "bp_diastolic": ("diastolic blood pressure", "mmHg"),
    "age": ("age", "years"),
    "pregnancy_weeks": ("weeks of pregnancy", ""),
    "onset_days": ("days since onset", ""),
    "days_ago": ("days ago", ""),
    "surgery_days_ago": ("days since surgery", ""),
    "pain_nprs": ("pain (NPRS)", "/10"),
    "soreness_24h": ("soreness after the last session", "/10"),
    "soreness_hours": ("hours the soreness lasted", ""),
}


@dataclass(frozen=True, slots=True)
class Patient:
    age: float | None = None
    sex: str | None = None
    can_give_feedback: bool | None = None
    pregnancy_weeks: float | None = None
    high_risk_pregnancy: bool = False


@dataclass(frozen=True, slots=True)
class Vitals:
    temperature_c: float | None = None
    bp_systolic: float | None = None
    bp_diastolic: float | None = None


@dataclass(frozen=True, slots=True)
class ConditionInput:
    code: str
    region: str
    side: str | None = None
    onset_days: float | None = None
    irritability: str | None = None
    pain_nprs: float | None = None
    surgery_days_ago: float | None = None
    incision_closed: bool | None = None


@dataclass(frozen=True, slots=True)
class FindingInput:
    code: str
    region: str | None = None  # a region, a group or whole_body; None for whole-body findings
    side: str | None = None
    days_ago: float | None = None
    closed: bool | None = None
    cleared: bool = False  # recorded from the physician's note: it no longer restricts (vocabulary.md)


@dataclass(frozen=True, slots=True)
class WellsInput:
    version: str
    side: str | None
    items: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class OttawaInput:
    rule: str  # ottawa_ankle | ottawa_foot
    side: str | None
    answers: tuple[tuple[str, bool], ...]  # the rule's zone and criteria fields that were answered

    def answer(self, key: str) -> bool:
        return dict(self.answers).get(key, False)


@dataclass(frozen=True, slots=True)
class LastSession:
    soreness_24h: float | None = None
    soreness_hours: float | None = None
    pressure_tolerance: str | None = None
    relief: str | None = None


@dataclass(frozen=True, slots=True)
class PlanRequest:
    conditions: tuple[ConditionInput, ...] = ()
    patient: Patient = field(default_factory=Patient)
    vitals: Vitals = field(default_factory=Vitals)
    findings: tuple[FindingInput, ...] = ()
    wells: WellsInput | None = None
    ottawa: tuple[OttawaInput, ...] = ()
    last_session: LastSession | None = None
    policy_overrides: tuple[tuple[str, float], ...] = ()
    request_id: str | int | None = None


def parse_request(payload: Any) -> PlanRequest:
    """Validate a ``palpate.plan/1`` request and return its typed form."""
    return _Parser(knowledge_base()).request(payload)


def vitals_problems(vitals: Mapping[str, Any]) -> list[InputError]:
    """Every problem of the vitals at once (each number against its limit, then the pair's order),
    with the same messages and paths :func:`parse_request` gives for the first one. A form checks
    these before the rest of the request is valid, so a bad temperature and a bad blood pressure are
    both named in the same round as a missing date."""
    parser = _Parser(knowledge_base())
    problems: list[InputError] = []
    numbers: dict[str, float | None] = {}
    for key in ("temperature_c", "bp_systolic", "bp_diastolic"):
        try:
            numbers[key] = parser.number(vitals, key, "vitals")
        except InputError as error:
            problems.append(error)
    systolic, diastolic = numbers.get("bp_systolic"), numbers.get("bp_diastolic")
    if systolic is not None and diastolic is not None:  # both possible: then their order
        try:
            parser.vitals({"bp_systolic": systolic, "bp_diastolic": diastolic})
        except InputError as error:
            problems.append(error)
    return problems


class _Parser:
    def __init__(self, kb: ClinicalKB) -> None:
        self.kb = kb
        self.limits = kb.input_limits

    # -- generic checks -------------------------------------------------------------------------

    @staticmethod
    def fail(code: str, message: str, path: str) -> NoReturn:
        raise InputError(code, message, path)

    def obj(self, value: Any, path: str, allowed: tuple[str, ...]) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail("wrong_type", f"{path or 'the request'} must be a JSON object", path)
        for key in value:
            if key not in allowed:
                self.fail("unknown_field", f"unknown field {key!r}; expected one of: {', '.join(allowed)}",
                          f"{path}.{key}" if path else key)
        return value

    def number(self, data: Mapping[str, Any], key: str, path: str, limit: str | None = None) -> float | None:
        value = data.get(key)
        where = f"{path}.{key}" if path else key
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not isfinite(value):
            self.fail("wrong_type", f"{key} must be a number", where)
        low, high = self.limits[limit or key]
        if not low <= value <= high:
            name, unit = READABLE.get(limit or key, (key.replace("_", " "), ""))
            unit = f" {unit}" if unit else ""
            self.fail("out_of_range", f"{name} {value:g}{unit} is not possible: enter a value from {low:g} to "
                                      f"{high:g}{unit} ({key})", where)
        return float(value)

    def boolean(self, data: Mapping[str, Any], key: str, path: str) -> bool | None:
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, bool):
            self.fail("wrong_type", f"{key} must be true or false", f"{path}.{key}")
        return value

    def choice(self, data: Mapping[str, Any], key: str, path: str, allowed: tuple[str, ...] | Mapping[str, Any],
               code: str = "invalid_value", what: str | None = None) -> str | None:
        value = data.get(key)
        where = f"{path}.{key}" if path else key
        if value is None:
            return None
        if not isinstance(value, str):
            self.fail("wrong_type", f"{key} must be text", where)
        if value not in allowed:
            self.fail(code, f"{value!r} is not a known {what or key}; expected one of: {', '.join(allowed)}", where)
        return value

    def listing(self, data: Mapping[str, Any], key: str, path: str) -> list[Any]:
        value = data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.fail("wrong_type", f"{key} must be a list", f"{path}.{key}" if path else key)
        return value

    def placed(self, data: Mapping[str, Any], path: str, groups_allowed: bool) -> tuple[str, str | None]:
        """A region (or, for findings, a group or whole_body) with the side rules of the contract."""
        index = self.kb.regions
        known: dict[str, Any] = dict(index.regions)
        if groups_allowed:
            known.update(index.groups)
            known[WHOLE_BODY] = None
        region = self.choice(data, "region", path, known, code="unknown_code",
                             what="region or group" if groups_allowed else "region")
        if region is None:
            self.fail("missing_field", "region is required here", f"{path}.region")
        side = self.choice(data, "side", path, SIDES)
        problem = side_problem(index, region, side)
        if problem is not None:
            self.fail(problem.code, problem.message, f"{path}.side")
        return region, side

    # -- request sections -----------------------------------------------------------------------

    def request(self, payload: Any) -> PlanRequest:
        top = self.obj(payload, "", ("contract", "id", "patient", "vitals", "conditions", "findings", "screens",
                                      "last_session", "policy"))
        contract = top.get("contract")
        if contract is not None and contract != CONTRACT:
            self.fail("invalid_value", f"this command answers {CONTRACT!r} requests, not {contract!r}", "contract")
        request_id = top.get("id")
        if request_id is not None and (isinstance(request_id, bool) or not isinstance(request_id, (str, int))):
            self.fail("wrong_type", "id must be text or a whole number", "id")
        if "conditions" not in top or top["conditions"] is None:
            self.fail("missing_field", "conditions is required (it may be an empty list)", "conditions")
        conditions = tuple(self.condition(item, f"conditions[{i}]")
                           for i, item in enumerate(self.listing(top, "conditions", "")))
        findings = tuple(self.finding(item, f"findings[{i}]")
                         for i, item in enumerate(self.listing(top, "findings", "")))
        screens = self.obj(top.get("screens") or {}, "screens", ("wells", "ottawa_ankle", "ottawa_foot"))
        wells = self.wells(screens["wells"], "screens.wells") if screens.get("wells") is not None else None
        ottawa = tuple(self.ottawa(name, screens[name], f"screens.{name}")
                       for name in ("ottawa_ankle", "ottawa_foot") if screens.get(name) is not None)
        last = self.last_session(top["last_session"]) if top.get("last_session") is not None else None
        overrides = check_overrides(top["policy"]) if top.get("policy") is not None else {}
        return PlanRequest(conditions, self.patient(top.get("patient") or {}), self.vitals(top.get("vitals") or {}),
                           findings, wells, ottawa, last, tuple(sorted(overrides.items())), request_id)

    def patient(self, value: Any) -> Patient:
        path = "patient"
        data = self.obj(value, path, ("age", "sex", "can_give_feedback", "pregnancy_weeks", "high_risk_pregnancy"))
        return Patient(self.number(data, "age", path), self.choice(data, "sex", path, SEXES),
                       self.boolean(data, "can_give_feedback", path), self.number(data, "pregnancy_weeks", path),
                       bool(self.boolean(data, "high_risk_pregnancy", path)))

    def vitals(self, value: Any) -> Vitals:
        path = "vitals"
        data = self.obj(value, path, ("temperature_c", "bp_systolic", "bp_diastolic"))
        systolic = self.number(data, "bp_systolic", path)
        diastolic = self.number(data, "bp_diastolic", path)
        if systolic is not None and diastolic is not None and diastolic >= systolic:
            self.fail("out_of_range", f"diastolic {diastolic:g} must be lower than systolic {systolic:g}",
                      "vitals.bp_diastolic")
        return Vitals(self.number(data, "temperature_c", path), systolic, diastolic)

    def condition(self, value: Any, path: str) -> ConditionInput:
        data = self.obj(value, path, ("code", "region", "side", "onset_days", "irritability", "pain_nprs",
                                      "surgery_days_ago", "incision_closed", "note"))
        code = self.choice(data, "code", path, self.kb.conditions, code="unknown_code", what="condition code")
        if code is None:
            self.fail("missing_field", "code is required", f"{path}.code")
        default_region = self.kb.conditions[code].default_region
        if data.get("region") is None and default_region is not None:
            data = {**data, "region": default_region}
        region, side = self.placed(data, path, groups_allowed=False)
        check_condition_region(code, region, f"{path}.region")
        self.note(data, path)
        return ConditionInput(code, region, side, self.number(data, "onset_days", path),
                              self.choice(data, "irritability", path, IRRITABILITIES),
                              self.number(data, "pain_nprs", path), self.number(data, "surgery_days_ago", path),
                              self.boolean(data, "incision_closed", path))

    def finding(self, value: Any, path: str) -> FindingInput:
        data = self.obj(value, path, ("code", "region", "side", "days_ago", "closed", "cleared", "note"))
        code = self.choice(data, "code", path, self.kb.rules, code="unknown_code", what="finding code")
        if code is None:
            self.fail("missing_field", "code is required", f"{path}.code")
        self.note(data, path)
        days_ago = self.number(data, "days_ago", path)
        closed = self.boolean(data, "closed", path)
        cleared = bool(self.boolean(data, "cleared", path))
        if cleared and not self.kb.rules[code].resolves:
            resolving = ", ".join(c for c, rule in self.kb.rules.items() if rule.resolves)
            self.fail("invalid_value", f"{code} does not resolve, so it cannot be recorded as cleared; only these "
                                       f"findings take cleared: {resolving}", f"{path}.cleared")
        if self.kb.rules[code].scope == "whole_body":
            # A whole-body finding acts everywhere whatever region is named; still reject nonsense.
            if data.get("region") is not None:
                self.placed(data, path, groups_allowed=True)
            elif data.get("side") is not None:
                self.fail("invalid_value", f"{code} is a whole-body finding and takes no side", f"{path}.side")
            return FindingInput(code, None, None, days_ago, closed, cleared)
        region, side = self.placed(data, path, groups_allowed=True)
        return FindingInput(code, region, side, days_ago, closed, cleared)

    def note(self, data: Mapping[str, Any], path: str) -> None:
        if data.get("note") is not None and not isinstance(data["note"], str):
            self.fail("wrong_type", "note must be text", f"{path}.note")

    def wells(self, value: Any, path: str) -> WellsInput:
        data = self.obj(value, path, ("version", "side", "items"))
        version = data.get("version")
        if isinstance(version, int) and not isinstance(version, bool):
            version = str(version)
        if version is None:
            self.fail("missing_field", "version is required: '1997' or '2003'", f"{path}.version")
        versions = self.kb.wells.versions
        if version not in versions:
            self.fail("invalid_value", f"unknown Wells version {version!r}; expected '1997' or '2003'", f"{path}.version")
        side = self.choice(data, "side", path, SIDES)
        items: list[str] = []
        for index, item in enumerate(self.listing(data, "items", path)):
            where = f"{path}.items[{index}]"
            if not isinstance(item, str):
                self.fail("wrong_type", "Wells items are codes (text)", where)
            if item not in self.kb.wells.items:
                self.fail("unknown_code", f"unknown Wells item {item!r}", where)
            if version not in self.kb.wells.items[item]:
                self.fail("invalid_value", f"{item} is not an item of Wells {version}", where)
            if item in items:
                self.fail("invalid_value", f"{item} is listed twice", where)
            items.append(item)
        return WellsInput(str(version), side, tuple(items))

    def ottawa(self, rule: str, value: Any, path: str) -> OttawaInput:
        spec = self.kb.ottawa[rule]
        fields = (spec.zone, *spec.criteria)
        data = self.obj(value, path, ("side", *fields))
        side = self.choice(data, "side", path, SIDES)
        answers = tuple((f, answer) for f in fields if (answer := self.boolean(data, f, path)) is not None)
        return OttawaInput(rule, side, answers)

    def last_session(self, value: Any) -> LastSession:
        path = "last_session"
        data = self.obj(value, path, ("soreness_24h", "soreness_hours", "pressure_tolerance", "relief"))
        return LastSession(self.number(data, "soreness_24h", path), self.number(data, "soreness_hours", path),
                           self.choice(data, "pressure_tolerance", path, PRESSURES),
                           self.choice(data, "relief", path, RELIEF))
