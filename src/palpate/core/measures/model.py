"""The outcome-measure vocabulary as frozen dataclasses and enums.

Everything here is plain data: the catalogue (``catalogue.py``) builds it from
``kb/instruments.yaml`` and ``kb/rom_norms.yaml``, the functions in the sibling modules return it.
Results carry an ``as_json()`` that produces the command-line contract's documents
(``palpate.score/1``, ``palpate.change/1``), so the CLI and the web app share one shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from fractions import Fraction
from typing import Any, NamedTuple

SCORE_CONTRACT = "palpate.score/1"
CHANGE_CONTRACT = "palpate.change/1"

# The only scale of a single-scale instrument. Multi-scale instruments (BCTQ) name theirs.
TOTAL = "total"


class Better(StrEnum):
    """Which end of a score is the better state."""

    LOWER = "lower"
    HIGHER = "higher"


class Status(StrEnum):
    """Verification status of a value, as facts.md labels it (plus ``policy`` for our defaults)."""

    VERIFIED = "verified"
    PARTIAL = "partial"
    DERIVED = "derived"
    UNVERIFIED = "unverified"
    POLICY = "policy"


class ScoringMethod(StrEnum):
    SINGLE = "single"  # NPRS: the one rating is the score
    SUM = "sum"  # LEFS
    MEAN = "mean"  # PSFS, BCTQ scales
    PERCENT_OF_ANSWERED_MAXIMUM = "percent_of_answered_maximum"  # ODI, NDI
    DASH_RESCALED_MEAN = "dash_rescaled_mean"  # QuickDASH


class Direction(StrEnum):
    """The contract's ``direction`` of a change, judged by MCID and better-direction."""

    IMPROVED = "improved"
    WORSE = "worse"
    NO_IMPORTANT_CHANGE = "no_important_change"


class Responder(StrEnum):
    """Responder status over an episode's series of scores (first against latest)."""

    IMPROVED = "improved"
    NO_IMPORTANT_CHANGE = "no_important_change"
    WORSE = "worse"
    INSUFFICIENT_DATA = "insufficient_data"  # fewer than two scores: nothing to compare yet


REASON_TOO_MANY_MISSING = "too_many_missing"


# ---------------------------------------------------------------------------------------------
# The catalogue


@dataclass(frozen=True)
class Source:
    key: str
    title: str
    url: str
    grade: str | None  # A, B, C, "policy", or None when unverified

    def cite(self) -> str:
        grade = f" [{self.grade}]" if self.grade and self.grade != "policy" else ""
        return f"{self.title}{grade}"


class AnswerOption(NamedTuple):
    """One answer of an item: its value and a short generic label written for Palpate."""

    value: int
    label: str


@dataclass(frozen=True)
class Item:
    """One question, in published order. ``topic`` is our own short words, never the licensed text.

    ``wording`` and ``option_wording`` are empty unless a clinic loaded its licensed copy
    (``load_licensed_wording``).
    """

    number: int
    topic: str
    scale: tuple[AnswerOption, ...]
    subscale: str = TOTAL
    answer_scale: str = ""
    wording: str | None = None
    option_wording: tuple[AnswerOption, ...] = ()

    @property
    def min_answer(self) -> int:
        return self.scale[0].value

    @property
    def max_answer(self) -> int:
        return self.scale[-1].value


@dataclass(frozen=True)
class ScoringRule:
    method: ScoringMethod
    formula: str
    source: Source
    status: Status


@dataclass(frozen=True)
class MissingRule:
    """How many items may be unanswered. ``max_missing`` None: any, as long as one is answered."""

    max_missing: int | None
    status: Status
    adjustable: bool
    rule: str
    source: Source


@dataclass(frozen=True)
class Band:
    """An interpretation band: scores above the previous band's ``upper`` up to this ``upper``."""

    upper: float
    code: str
    label: str


@dataclass(frozen=True)
class Reporting:
    """How the instrument reports a score: the decimals its published form or paper prints.

    The stored score stays unrounded (change, MCID and bands use it); only what a person reads is
    rounded, as the instrument reports it (ODI 44, not 44.4444).
    """

    decimals: int
    source: Source
    status: Status
    note: str = ""

    def text(self, value: float | Fraction) -> str:
        # Half up, as people round (44.5 -> 45; Python's round() would give 44), on the exact value.
        exact = (Decimal(value.numerator) / Decimal(value.denominator) if isinstance(value, Fraction)
                 else Decimal(repr(float(value))))
        rounded = exact.quantize(Decimal(1).scaleb(-self.decimals), rounding=ROUND_HALF_UP)
        text = f"{rounded:f}"
        text = text.rstrip("0").rstrip(".") if "." in text else text
        return "0" if text in ("-0", "") else text


@dataclass(frozen=True)
class Conversion:
    """How a published value was converted into the units Palpate's score uses."""

    value: float
    units: str
    factor: float


@dataclass(frozen=True)
class Threshold:
    """An MCID/MIC (or the MDC used as one), in the units ``score`` returns for the scale."""

    value: float
    units: str
    kind: str  # mcid, mic, mdc90: what the source calls the number
    source: Source
    status: Status
    note: str = ""
    relative_percent: float | None = None  # Ostelo 2008: or a 30% improvement from baseline
    converted_from: Conversion | None = None


@dataclass(frozen=True)
class Mdc:
    value: float
    confidence: int
    units: str
    source: Source
    status: Status
    converted_from: Conversion | None = None


@dataclass(frozen=True)
class Alternative:
    """Another published (or unverified) threshold, shown for context and never used by default."""

    kind: str
    source: Source
    status: Status
    units: str = ""
    value: float | None = None
    value_range: tuple[float, float] | None = None
    text: str = ""
    population: str = ""
    note: str = ""


@dataclass(frozen=True)
class Loinc:
    code: str
    display: str
    status: Status
    source: Source
    panel: str = ""
    note: str = ""


@dataclass(frozen=True)
class Licence:
    status: str  # licensed, check_terms, not_required
    note: str


@dataclass(frozen=True)
class Scale:
    """One scored scale: the whole questionnaire, or one of the BCTQ's two scales."""

    code: str
    name: str
    units: str
    range: tuple[float, float]
    better: Better
    scoring: ScoringRule
    missing: MissingRule
    items: tuple[Item, ...]
    min_items: int
    max_items: int
    bands: tuple[Band, ...]
    bands_source: Source | None
    mcid: Threshold
    mdc: Mdc | None
    alternatives: tuple[Alternative, ...] = ()
    reporting: Reporting | None = None  # every scale in instruments.yaml has one (the catalogue checks)

    def report(self, value: float | Fraction | None) -> str:
        """The score as the instrument reports it ("44" for an ODI of 44.44); "—" for no score."""
        if value is None:
            return "—"
        if self.reporting is None:
            return Reporting(2, Source("", "", "", None), Status.POLICY).text(value)
        return self.reporting.text(value)

    def band_for(self, score: Fraction | float) -> Band | None:
        for band in self.bands:
            if score <= band.upper:
                return band
        return None


@dataclass(frozen=True)
class Instrument:
    code: str
    name: str
    licence: Licence
    loinc: Loinc | None
    scales: tuple[Scale, ...]
    abbreviation: str = ""

    @property
    def items(self) -> tuple[Item, ...]:
        """Every item in published order (BCTQ: the symptom scale's, then the function scale's)."""
        return tuple(item for scale in self.scales for item in scale.items)

    @property
    def is_multiscale(self) -> bool:
        return len(self.scales) > 1

    @property
    def scale_codes(self) -> tuple[str, ...]:
        return tuple(scale.code for scale in self.scales)

    @property
    def range(self) -> tuple[float, float]:
        return self.scales[0].range

    @property
    def better(self) -> Better:
        return self.scales[0].better

    @property
    def has_licensed_wording(self) -> bool:
        return any(item.wording for item in self.items)

    def scale(self, code: str | None = None) -> Scale:
        """The named scale; ``None`` is the only scale of a single-scale instrument."""
        if code is None and not self.is_multiscale:
            return self.scales[0]
        for scale in self.scales:
            if scale.code == code:
                return scale
        raise KeyError(code)


@dataclass(frozen=True)
class ProgressionPolicy:
    bridge_nprs_max: float
    reevaluation_after_visits: int
    source: Source
    status: Status


# ---------------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True)
class ScaleScore:
    scale: str
    valid: bool
    score: float | None
    answered: int
    missing: int
    max_missing: int | None
    band: Band | None = None
    reason: str | None = None


@dataclass(frozen=True)
class ScoreResult:
    instrument: str
    parts: tuple[ScaleScore, ...]
    range: tuple[float, float]
    better: Better
    multiscale: bool = False

    @property
    def valid(self) -> bool:
        return all(part.valid for part in self.parts)

    @property
    def score(self) -> float | None:
        """The score of a single-scale instrument (None when not scorable, or for the BCTQ)."""
        return None if self.multiscale else self.parts[0].score

    @property
    def scores(self) -> dict[str, float | None]:
        return {part.scale: part.score for part in self.parts}

    @property
    def answered(self) -> int:
        return sum(part.answered for part in self.parts)

    @property
    def band(self) -> Band | None:
        return None if self.multiscale else self.parts[0].band

    @property
    def reason(self) -> str | None:
        reasons = [part.reason for part in self.parts if part.reason]
        return reasons[0] if reasons else None

    def as_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"contract": SCORE_CONTRACT, "instrument": self.instrument, "valid": self.valid}
        if self.multiscale:
            doc["scores"] = self.scores
            doc["answered"] = self.answered
            doc["answered_by_scale"] = {part.scale: part.answered for part in self.parts}
        else:
            doc["score"] = self.score
            doc["answered"] = self.answered
        doc["range"] = list(self.range)
        doc["better"] = str(self.better)
        if not self.multiscale:
            band = self.band
            doc["band"] = band.label if band else None
        if not self.valid:
            doc["reason"] = self.reason
            if self.multiscale:
                doc["invalid_scales"] = [part.scale for part in self.parts if not part.valid]
            doc["max_missing"] = {p.scale: p.max_missing for p in self.parts} if self.multiscale \
                else self.parts[0].max_missing
        return doc


@dataclass(frozen=True)
class ChangeResult:
    instrument: str
    scale: str
    baseline: float
    follow_up: float
    change: float
    percent_change: float | None  # None when the baseline is 0: no relative change exists
    mcid: float
    meets_mcid: bool
    direction: Direction
    source: str
    units: str
    mcid_kind: str
    better: Better
    mdc: float | None = None
    meets_mdc: bool | None = None
    relative_mcid_percent: float | None = None
    meets_relative_mcid: bool | None = None
    whole_numbers: bool = False  # both inputs were integers: report the change as one

    def as_json(self) -> dict[str, Any]:
        change: float = int(self.change) if self.whole_numbers else self.change
        doc: dict[str, Any] = {
            "contract": CHANGE_CONTRACT,
            "instrument": self.instrument,
        }
        if self.scale != TOTAL:
            doc["scale"] = self.scale
        doc.update({
            "baseline": self.baseline,
            "follow_up": self.follow_up,
            "change": change,
            "percent_change": self.percent_change,
            "mcid": self.mcid,
            "meets_mcid": self.meets_mcid,
            "direction": str(self.direction),
            "source": self.source,
            "units": self.units,
            "mcid_kind": self.mcid_kind,
            "better": str(self.better),
        })
        if self.mdc is not None:
            doc["mdc"] = self.mdc
            doc["meets_mdc"] = self.meets_mdc
        if self.relative_mcid_percent is not None:
            doc["relative_mcid_percent"] = self.relative_mcid_percent
            doc["meets_relative_mcid"] = self.meets_relative_mcid
        return doc


@dataclass(frozen=True)
class ResponderStatus:
    instrument: str
    scale: str
    status: Responder
    scores_count: int
    baseline: float | None
    latest: float | None
    change: ChangeResult | None
    reason: str


@dataclass(frozen=True)
class ProgressionSignals:
    ready_for_active_rehab: bool
    re_evaluation_due: bool
    remeasure_due: bool
    reasons: tuple[str, ...]
    responder: ResponderStatus
    nprs_latest: float | None
    visits_count: int
    source: str


# ---------------------------------------------------------------------------------------------
# Range of motion


@dataclass(frozen=True)
class RomNorm:
    reference: str
    joint: str
    motion: str
    start: float
    end: float
    source: str
    grade: str | None
    status: Status

    @property
    def arc(self) -> float:
        """Degrees of normal motion from start to end (0 for knee extension: full extension)."""
        return self.end - self.start

    @property
    def verified(self) -> bool:
        return self.status is Status.VERIFIED


@dataclass(frozen=True)
class RomReference:
    code: str
    name: str
    source: str
    grade: str | None
    status: Status
    norms: tuple[RomNorm, ...]

    @property
    def joints(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(norm.joint for norm in self.norms))


@dataclass(frozen=True)
class RomLimit:
    """The largest plausible measurement of a motion: beyond it, a typing or unit error."""

    joint: str
    motion: str
    degrees: float
    source: str
    status: Status
