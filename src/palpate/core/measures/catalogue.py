"""Load and validate ``kb/instruments.yaml`` and ``kb/rom_norms.yaml`` into frozen dataclasses.

Validation happens once, at load, and every problem names the file, the key and what is wrong
(``KnowledgeBaseError``). Beyond types, the loader checks what would otherwise silently corrupt a
score: items numbered 1..n in order, answer scales that exist and agree with the scale's
better-direction, bands ascending up to the range's end, thresholds in the scale's units, and that
the scoring formula really maps all-minimum and all-maximum answers onto the declared range.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from palpate.core.errors import InputError, KnowledgeBaseError
from palpate.core.kb.loader import load_yaml, optional, require
from palpate.core.measures.formulas import compute
from palpate.core.measures.model import (
    TOTAL,
    Alternative,
    AnswerOption,
    Band,
    Better,
    Conversion,
    Instrument,
    Item,
    Licence,
    Loinc,
    Mdc,
    MissingRule,
    ProgressionPolicy,
    Reporting,
    RomLimit,
    RomNorm,
    RomReference,
    Scale,
    ScoringMethod,
    ScoringRule,
    Source,
    Status,
    Threshold,
)

INSTRUMENTS_FILE = "instruments.yaml"
ROM_FILE = "rom_norms.yaml"

NUMBER = (int, float)
LICENCE_STATUSES = ("licensed", "check_terms", "not_required")


@dataclass(frozen=True)
class Catalogue:
    version: str
    instruments: dict[str, Instrument]
    sources: dict[str, Source]
    progression: ProgressionPolicy


@dataclass(frozen=True)
class RomCatalogue:
    version: str
    default: str
    references: dict[str, RomReference]
    limits: dict[tuple[str, str], RomLimit]


# ---------------------------------------------------------------------------------------------
# Public look-ups


def instrument(code: str) -> Instrument:
    """The instrument with this vocabulary code (``odi``); an unknown code is an ``InputError``."""
    found = catalogue().instruments.get(code) if isinstance(code, str) else None
    if found is None:
        known = ", ".join(catalogue().instruments)
        raise InputError("unknown_instrument", f"unknown instrument {code!r}; known instruments: {known}",
                         "instrument")
    return found


def instruments() -> tuple[Instrument, ...]:
    """Every instrument, in the knowledge base's order."""
    return tuple(catalogue().instruments.values())


def progression_policy() -> ProgressionPolicy:
    return catalogue().progression


@functools.cache
def catalogue() -> Catalogue:
    return build_catalogue(load_yaml(INSTRUMENTS_FILE), INSTRUMENTS_FILE)


@functools.cache
def rom_catalogue() -> RomCatalogue:
    return build_rom_catalogue(load_yaml(ROM_FILE), ROM_FILE)


# ---------------------------------------------------------------------------------------------
# instruments.yaml


def build_catalogue(data: Any, f: str) -> Catalogue:
    """Validate parsed ``instruments.yaml`` data (``f`` names the file in errors) into a catalogue."""
    version = require(data, "version", str, f, "")
    sources = {key: _source(key, value, f) for key, value in require(data, "sources", dict, f, "").items()}
    scales = {key: _answer_scale(key, value, f)
              for key, value in require(data, "answer_scales", dict, f, "").items()}
    built: dict[str, Instrument] = {}
    for code, entry in require(data, "instruments", dict, f, "").items():
        built[code] = _instrument(str(code), entry, f, sources, scales)
    if not built:
        raise KnowledgeBaseError(f, "instruments", "no instruments defined")
    prog = require(data, "progression", dict, f, "")
    progression = ProgressionPolicy(
        bridge_nprs_max=require(prog, "bridge_nprs_max", NUMBER, f, "progression"),
        reevaluation_after_visits=_positive_int(prog, "reevaluation_after_visits", f, "progression"),
        source=_source_ref(prog, sources, f, "progression"),
        status=_status(prog, f, "progression"),
    )
    if "nprs" not in built:
        raise KnowledgeBaseError(f, "instruments.nprs", "the progression signals need the NPRS")
    return Catalogue(version=version, instruments=built, sources=sources, progression=progression)


def _source(key: str, value: Any, f: str) -> Source:
    where = f"sources.{key}"
    grade = optional(value, "grade", str, f, where)
    if grade is not None and grade not in ("A", "B", "C", "policy"):
        raise KnowledgeBaseError(f, f"{where}.grade", f"expected A, B, C or policy, got {grade!r}")
    return Source(key=key, title=require(value, "title", str, f, where),
                  url=optional(value, "url", str, f, where, ""), grade=grade)


@dataclass(frozen=True)
class _AnswerScale:
    code: str
    options: tuple[AnswerOption, ...]
    better: Better


def _answer_scale(key: str, value: Any, f: str) -> _AnswerScale:
    where = f"answer_scales.{key}"
    bounds = require(value, "values", list, f, where)
    if len(bounds) != 2 or not all(isinstance(b, int) and not isinstance(b, bool) for b in bounds) \
            or bounds[0] >= bounds[1]:
        raise KnowledgeBaseError(f, f"{where}.values", "expected [lowest, highest] whole numbers, lowest first")
    anchors = require(value, "anchors", dict, f, where)
    for answer, label in anchors.items():
        if not isinstance(answer, int) or not bounds[0] <= answer <= bounds[1]:
            raise KnowledgeBaseError(f, f"{where}.anchors.{answer}", "anchor is not one of the scale's values")
        if not isinstance(label, str) or not label:
            raise KnowledgeBaseError(f, f"{where}.anchors.{answer}", "expected a short label")
    for end in bounds:
        if end not in anchors:
            raise KnowledgeBaseError(f, f"{where}.anchors", f"both ends need a label; {end} has none")
    # Values between the labelled anchors show their number: a 0-10 rating needs no words at 6.
    options = tuple(AnswerOption(v, anchors.get(v, str(v))) for v in range(bounds[0], bounds[1] + 1))
    return _AnswerScale(code=key, options=options, better=_better(value, f, where))


def _instrument(code: str, entry: Any, f: str, sources: dict[str, Source],
                scales: dict[str, _AnswerScale]) -> Instrument:
    where = f"instruments.{code}"
    lic = require(entry, "licence", dict, f, where)
    lic_status = require(lic, "status", str, f, f"{where}.licence")
    if lic_status not in LICENCE_STATUSES:
        raise KnowledgeBaseError(f, f"{where}.licence.status", f"expected one of {', '.join(LICENCE_STATUSES)}")
    loinc_entry = optional(entry, "loinc", dict, f, where)
    loinc = None
    if loinc_entry is not None:
        lw = f"{where}.loinc"
        loinc = Loinc(code=require(loinc_entry, "code", str, f, lw),
                      display=require(loinc_entry, "display", str, f, lw),
                      status=_status(loinc_entry, f, lw), source=_source_ref(loinc_entry, sources, f, lw),
                      panel=optional(loinc_entry, "panel", str, f, lw, ""),
                      note=optional(loinc_entry, "note", str, f, lw, ""))
    built = tuple(_scale(str(key), value, f, f"{where}.scales.{key}", sources, scales)
                  for key, value in require(entry, "scales", dict, f, where).items())
    if not built:
        raise KnowledgeBaseError(f, f"{where}.scales", "an instrument needs at least one scale")
    if len(built) == 1 and built[0].code != TOTAL:
        raise KnowledgeBaseError(f, f"{where}.scales", f"a single-scale instrument names its scale {TOTAL!r}")
    if len(built) > 1 and any(s.code == TOTAL for s in built):
        raise KnowledgeBaseError(f, f"{where}.scales", f"the scales of a multi-scale instrument need names other than {TOTAL!r}")
    return Instrument(code=code, name=require(entry, "name", str, f, where),
                      licence=Licence(status=lic_status, note=optional(lic, "note", str, f, f"{where}.licence", "")),
                      loinc=loinc, scales=built,
                      abbreviation=optional(entry, "abbreviation", str, f, where, code.upper()))


def _scale(code: str, entry: Any, f: str, where: str, sources: dict[str, Source],
           answer_scales: dict[str, _AnswerScale]) -> Scale:
    better = _better(entry, f, where)
    rng = require(entry, "range", list, f, where)
    if len(rng) != 2 or not all(isinstance(v, NUMBER) and not isinstance(v, bool) for v in rng) or rng[0] >= rng[1]:
        raise KnowledgeBaseError(f, f"{where}.range", "expected [min, max] numbers, min first")
    score_range = (rng[0], rng[1])

    sw = f"{where}.scoring"
    scoring_entry = require(entry, "scoring", dict, f, where)
    method_name = require(scoring_entry, "method", str, f, sw)
    try:
        method = ScoringMethod(method_name)
    except ValueError:
        raise KnowledgeBaseError(f, f"{sw}.method", f"unknown scoring method {method_name!r}; known: "
                                 + ", ".join(m.value for m in ScoringMethod)) from None
    scoring = ScoringRule(method=method, formula=require(scoring_entry, "formula", str, f, sw),
                          source=_source_ref(scoring_entry, sources, f, sw), status=_status(scoring_entry, f, sw))

    items = []
    for index, raw in enumerate(require(entry, "items", list, f, where)):
        iw = f"{where}.items[{index}]"
        number = require(raw, "number", int, f, iw)
        if number != index + 1:
            raise KnowledgeBaseError(f, f"{iw}.number", f"items must be numbered 1..n in published order; expected {index + 1}")
        answers = require(raw, "answers", str, f, iw)
        if answers not in answer_scales:
            raise KnowledgeBaseError(f, f"{iw}.answers", f"unknown answer scale {answers!r}")
        answer_scale = answer_scales[answers]
        # A higher answer must move the score towards the scale's own worse/better end in the same
        # way for every item, or a sum or mean would mix directions.
        if answer_scale.better is not better:
            raise KnowledgeBaseError(f, f"{iw}.answers", f"answer scale {answers!r} is better-{answer_scale.better}"
                                     f" but the scale is better-{better}")
        items.append(Item(number=number, topic=require(raw, "topic", str, f, iw), scale=answer_scale.options,
                          subscale=code, answer_scale=answers))
    if not items:
        raise KnowledgeBaseError(f, f"{where}.items", "a scale needs items")

    count = optional(entry, "item_count", dict, f, where)
    if count is None:
        min_items = max_items = len(items)
    else:
        min_items = _positive_int(count, "min", f, f"{where}.item_count")
        max_items = _positive_int(count, "max", f, f"{where}.item_count")
        if not 1 <= min_items <= max_items == len(items):
            raise KnowledgeBaseError(f, f"{where}.item_count", "expected 1 <= min <= max = number of items")

    mw = f"{where}.missing"
    missing_entry = require(entry, "missing", dict, f, where)
    max_missing = optional(missing_entry, "max_missing", int, f, mw)
    if max_missing is not None and not 0 <= max_missing < min_items:
        raise KnowledgeBaseError(f, f"{mw}.max_missing", "must leave at least one item answered")
    missing = MissingRule(max_missing=max_missing, status=_status(missing_entry, f, mw),
                          adjustable=require(missing_entry, "adjustable", bool, f, mw),
                          rule=require(missing_entry, "rule", str, f, mw),
                          source=_source_ref(missing_entry, sources, f, mw))
    if missing.adjustable and missing.status is Status.VERIFIED:
        raise KnowledgeBaseError(f, f"{mw}.adjustable", "a verified, published rule is not a clinic setting")

    bands: tuple[Band, ...] = ()
    bands_source = None
    bands_entry = optional(entry, "bands", dict, f, where)
    if bands_entry is not None:
        bands, bands_source = _bands(bands_entry, score_range, f, f"{where}.bands", sources)

    units = require(entry, "units", str, f, where)
    mcid = _threshold(require(entry, "mcid", dict, f, where), units, f, f"{where}.mcid", sources)
    mdc_entry = optional(entry, "mdc", dict, f, where)
    mdc = None
    if mdc_entry is not None:
        dw = f"{where}.mdc"
        mdc = Mdc(value=_positive_number(mdc_entry, "value", f, dw), confidence=require(mdc_entry, "confidence", int, f, dw),
                  units=_same_units(mdc_entry, units, f, dw), source=_source_ref(mdc_entry, sources, f, dw),
                  status=_status(mdc_entry, f, dw), converted_from=_conversion(mdc_entry, f, dw))
    alternatives = tuple(_alternative(alt, f, f"{where}.alternatives[{i}]", sources)
                         for i, alt in enumerate(optional(entry, "alternatives", list, f, where, [])))

    rw = f"{where}.reported"
    reported = require(entry, "reported", dict, f, where)
    decimals = require(reported, "decimals", int, f, rw)
    if not 0 <= decimals <= 2:
        raise KnowledgeBaseError(f, f"{rw}.decimals", "expected 0, 1 or 2 decimals")
    reporting = Reporting(decimals=decimals, source=_source_ref(reported, sources, f, rw), status=_status(reported, f, rw),
                          note=optional(reported, "note", str, f, rw, ""))

    scale = Scale(code=code, name=require(entry, "name", str, f, where), units=units, range=score_range,
                  better=better, scoring=scoring, missing=missing, items=tuple(items), min_items=min_items,
                  max_items=max_items, bands=bands, bands_source=bands_source, mcid=mcid, mdc=mdc,
                  alternatives=alternatives, reporting=reporting)
    _check_formula(scale, f, where)
    return scale


def _check_formula(scale: Scale, f: str, where: str) -> None:
    """The formula must map all-minimum and all-maximum answers onto the declared range's ends."""
    lows = [item.min_answer for item in scale.items]
    highs = [item.max_answer for item in scale.items]
    if scale.scoring.method is ScoringMethod.PERCENT_OF_ANSWERED_MAXIMUM and set(lows) != {0}:
        raise KnowledgeBaseError(f, f"{where}.scoring", "sum / (maximum x answered) needs items that start at 0")
    if len(set(highs)) != 1 or len(set(lows)) != 1:
        raise KnowledgeBaseError(f, f"{where}.items", "every item of a scale must share one answer range")
    if scale.scoring.method is ScoringMethod.SINGLE and len(scale.items) != 1:
        raise KnowledgeBaseError(f, f"{where}.scoring", "method 'single' scores exactly one item")
    got = (compute(scale, lows), compute(scale, highs))
    if got != (Fraction(scale.range[0]), Fraction(scale.range[1])):
        raise KnowledgeBaseError(f, f"{where}.range", f"the formula gives {float(got[0])}..{float(got[1])} "
                                 f"for all-minimum..all-maximum answers, not {scale.range[0]}..{scale.range[1]}")


def _bands(entry: Any, score_range: tuple[float, float], f: str, where: str,
           sources: dict[str, Source]) -> tuple[tuple[Band, ...], Source]:
    bands = []
    previous = score_range[0]
    for i, raw in enumerate(require(entry, "list", list, f, where)):
        bw = f"{where}.list[{i}]"
        upper = require(raw, "upper", NUMBER, f, bw)
        if upper <= previous:
            raise KnowledgeBaseError(f, f"{bw}.upper", "bands must ascend within the range")
        previous = upper
        bands.append(Band(upper=upper, code=require(raw, "code", str, f, bw), label=require(raw, "label", str, f, bw)))
    if not bands or bands[-1].upper != score_range[1]:
        raise KnowledgeBaseError(f, f"{where}.list", "the last band must end at the range's maximum")
    _status(entry, f, where)
    return tuple(bands), _source_ref(entry, sources, f, where)


def _threshold(entry: Any, units: str, f: str, where: str, sources: dict[str, Source]) -> Threshold:
    return Threshold(value=_positive_number(entry, "value", f, where), units=_same_units(entry, units, f, where),
                     kind=require(entry, "kind", str, f, where), source=_source_ref(entry, sources, f, where),
                     status=_status(entry, f, where), note=optional(entry, "note", str, f, where, ""),
                     relative_percent=optional(entry, "relative_percent", NUMBER, f, where),
                     converted_from=_conversion(entry, f, where))


def _alternative(entry: Any, f: str, where: str, sources: dict[str, Source]) -> Alternative:
    value_range = optional(entry, "value_range", list, f, where)
    if value_range is not None and (len(value_range) != 2 or value_range[0] > value_range[1]):
        raise KnowledgeBaseError(f, f"{where}.value_range", "expected [low, high]")
    alt = Alternative(kind=require(entry, "kind", str, f, where), source=_source_ref(entry, sources, f, where),
                      status=_status(entry, f, where), units=optional(entry, "units", str, f, where, ""),
                      value=optional(entry, "value", NUMBER, f, where),
                      value_range=(value_range[0], value_range[1]) if value_range else None,
                      text=optional(entry, "text", str, f, where, ""),
                      population=optional(entry, "population", str, f, where, ""),
                      note=optional(entry, "note", str, f, where, ""))
    if alt.value is None and alt.value_range is None and not alt.text:
        raise KnowledgeBaseError(f, where, "an alternative needs a value, a value_range or a text")
    return alt


def _conversion(entry: Any, f: str, where: str) -> Conversion | None:
    raw = optional(entry, "converted_from", dict, f, where)
    if raw is None:
        return None
    cw = f"{where}.converted_from"
    conversion = Conversion(value=require(raw, "value", NUMBER, f, cw), units=require(raw, "units", str, f, cw),
                            factor=require(raw, "factor", NUMBER, f, cw))
    # A converted value must be the published value times the factor, and be marked derived.
    if Fraction(str(conversion.value)) * Fraction(str(conversion.factor)) != Fraction(str(entry["value"])):
        raise KnowledgeBaseError(f, f"{where}.value", f"expected {conversion.value} x {conversion.factor}")
    if entry.get("status") != Status.DERIVED.value:
        raise KnowledgeBaseError(f, f"{where}.status", "a converted value is 'derived'")
    return conversion


def _same_units(entry: Any, units: str, f: str, where: str) -> str:
    # Thresholds must be stored in the units the score is reported in, or change() compares
    # apples with oranges (NDI raw 0-50 against a 0-100 percentage).
    got = optional(entry, "units", str, f, where, units)
    if got != units:
        raise KnowledgeBaseError(f, f"{where}.units", f"must be the scale's units {units!r}, got {got!r}")
    return units


def _source_ref(entry: Any, sources: dict[str, Source], f: str, where: str) -> Source:
    key = require(entry, "source", str, f, where)
    if key not in sources:
        raise KnowledgeBaseError(f, f"{where}.source", f"unknown source {key!r}")
    return sources[key]


def _status(entry: Any, f: str, where: str) -> Status:
    raw = require(entry, "status", str, f, where)
    try:
        return Status(raw)
    except ValueError:
        raise KnowledgeBaseError(f, f"{where}.status", f"expected one of {', '.join(s.value for s in Status)}") from None


def _better(entry: Any, f: str, where: str) -> Better:
    raw = require(entry, "better", str, f, where)
    try:
        return Better(raw)
    except ValueError:
        raise KnowledgeBaseError(f, f"{where}.better", "expected 'lower' or 'higher'") from None


def _positive_int(entry: Any, key: str, f: str, where: str) -> int:
    value = require(entry, key, int, f, where)
    if value < 1:
        raise KnowledgeBaseError(f, f"{where}.{key}", "expected a whole number of at least 1")
    return int(value)


def _positive_number(entry: Any, key: str, f: str, where: str) -> float:
    value: float = require(entry, key, NUMBER, f, where)
    if value <= 0:
        raise KnowledgeBaseError(f, f"{where}.{key}", "expected a number above 0")
    return value


# ---------------------------------------------------------------------------------------------
# rom_norms.yaml


def build_rom_catalogue(data: Any, f: str) -> RomCatalogue:
    """Validate parsed ``rom_norms.yaml`` data into reference sets."""
    version = require(data, "version", str, f, "")
    refs: dict[str, RomReference] = {}
    for code, entry in require(data, "references", dict, f, "").items():
        where = f"references.{code}"
        source = require(entry, "source", str, f, where)
        grade = optional(entry, "grade", str, f, where)
        status = _status(entry, f, where)
        norms = []
        for joint, motions in require(entry, "joints", dict, f, where).items():
            if not isinstance(motions, dict) or not motions:
                raise KnowledgeBaseError(f, f"{where}.joints.{joint}", "expected a mapping of motions")
            for motion, arc in motions.items():
                mw = f"{where}.joints.{joint}.{motion}"
                start = require(arc, "start", NUMBER, f, mw)
                end = require(arc, "end", NUMBER, f, mw)
                if end < start:
                    raise KnowledgeBaseError(f, mw, "end is before start")
                norms.append(RomNorm(reference=str(code), joint=str(joint), motion=str(motion), start=start, end=end,
                                     source=source, grade=grade, status=status))
        refs[str(code)] = RomReference(code=str(code), name=require(entry, "name", str, f, where), source=source,
                                       grade=grade, status=status, norms=tuple(norms))
    default = require(data, "default", str, f, "")
    if default not in refs:
        raise KnowledgeBaseError(f, "default", f"no reference set named {default!r}")
    return RomCatalogue(version=version, default=default, references=refs, limits=_rom_limits(data, f, refs))


def _rom_limits(data: Any, f: str, refs: dict[str, RomReference]) -> dict[tuple[str, str], RomLimit]:
    """Every motion's physiological limit; never below a normal end, never past a full turn."""
    where = "physiological_limits"
    node = require(data, where, dict, f, "")
    source = require(node, "source", str, f, where)
    status = _status(node, f, where)
    limits: dict[tuple[str, str], RomLimit] = {}
    for joint, motions in require(node, "joints", dict, f, where).items():
        if not isinstance(motions, dict) or not motions:
            raise KnowledgeBaseError(f, f"{where}.joints.{joint}", "expected a mapping of motions")
        for motion, degrees in motions.items():
            at = f"{where}.joints.{joint}.{motion}"
            if isinstance(degrees, bool) or not isinstance(degrees, (int, float)) or not 0 < degrees <= 360:
                raise KnowledgeBaseError(f, at, "expected degrees above 0, at most 360")
            limits[(str(joint), str(motion))] = RomLimit(str(joint), str(motion), float(degrees), source, status)
    for ref in refs.values():
        for norm in ref.norms:
            limit = limits.get((norm.joint, norm.motion))
            if limit is None:
                raise KnowledgeBaseError(f, f"{where}.joints", f"no limit for {norm.joint} {norm.motion}")
            if limit.degrees < norm.end:
                raise KnowledgeBaseError(f, f"{where}.joints.{norm.joint}.{norm.motion}",
                                         f"below the {ref.code} normal end {norm.end:g}")
    return limits
