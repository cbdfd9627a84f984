"""The Medicare KX modifier threshold: a per-beneficiary, per-calendar-year running total.

Source (facts.md F.4): PT and SLP share one combined threshold per calendar year (OT has its own of
the same amount); claims above it without the KX modifier are denied; the targeted medical review
threshold is $3,000 through 2027 (NGS [B]). The threshold changes every year, so it is a table by
year in ``kb/billing.yaml`` (2026 is UNVERIFIED against CMS), never one number.

Palpate warns *before* the threshold is crossed: once the running total reaches a policy fraction of
it (a clinic setting, not a CMS number), on the visit that crosses it, and on every visit after.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from palpate.core.billing.catalogue import Catalogue, Evidence, KxThreshold, catalogue
from palpate.core.billing.edits import BillingWarning
from palpate.core.errors import InputError

CENT = Decimal("0.01")


class KxState(StrEnum):
    BELOW = "below"
    APPROACHING = "approaching"  # at or above the warning fraction, not yet over
    CROSSES = "crosses"  # this visit takes the total over the threshold
    ABOVE = "above"  # the total was already over before this visit


@dataclass(frozen=True)
class KxStatus:
    year: int
    threshold: Decimal
    year_to_date: Decimal  # allowed charges before this visit
    additional: Decimal  # this visit
    total: Decimal  # after this visit
    remaining: Decimal  # threshold - total; negative once over
    state: KxState
    kx_required: bool  # this claim needs KX (with documented medical necessity)
    review_threshold: Decimal | None
    review_reached: bool
    warnings: tuple[BillingWarning, ...]
    threshold_evidence: Evidence

    def as_json(self) -> dict[str, object]:
        return {
            "year": self.year,
            "threshold": float(self.threshold),
            "threshold_status": self.threshold_evidence.status,
            "threshold_grade": self.threshold_evidence.grade,
            "threshold_source": self.threshold_evidence.source.citation,
            "year_to_date": float(self.year_to_date),
            "additional": float(self.additional),
            "total": float(self.total),
            "remaining": float(self.remaining),
            "state": self.state.value,
            "kx_required": self.kx_required,
            "review_threshold": None if self.review_threshold is None else float(self.review_threshold),
            "review_reached": self.review_reached,
        }


@dataclass(frozen=True)
class KxCharge:
    """One visit's allowed charges for one patient, for the running total."""

    patient: str
    date_of_service: date
    amount: Decimal


def kx_threshold(year: int, cat: Catalogue | None = None) -> KxThreshold | None:
    """The stored threshold for ``year``, or None when the knowledge base has no value for it."""
    cat = cat or catalogue()
    return cat.kx.thresholds.get(year)


def money(value: Decimal | int | float | str, path: str) -> Decimal:
    """A non-negative amount in dollars, rounded to cents."""
    if isinstance(value, bool):
        raise InputError("wrong_type", "an amount must be a number of dollars", path)
    try:
        amount = Decimal(str(value))
    except ArithmeticError:
        raise InputError("wrong_type", f"an amount must be a number of dollars, got {value!r}", path) from None
    if not amount.is_finite():
        raise InputError("out_of_range", "an amount must be a finite number", path)
    if amount < 0:
        raise InputError("out_of_range", f"an amount must not be negative, got {value}", path)
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def kx_status(year: int, year_to_date: Decimal | int | float, additional: Decimal | int | float = 0,
              cat: Catalogue | None = None) -> KxStatus:
    """Where this visit leaves the patient's running total against the year's KX threshold."""
    cat = cat or catalogue()
    found = kx_threshold(year, cat)
    if found is None:
        known = ", ".join(str(y) for y in cat.kx.thresholds)
        raise InputError("out_of_range", f"no KX threshold is stored for {year} (known: {known}); add it to kb/billing.yaml",
                         "year")
    before = money(year_to_date, "year_to_date_charges")
    extra = money(additional, "charges")
    total = before + extra
    threshold = found.amount
    if before > threshold:
        state = KxState.ABOVE
    elif total > threshold:
        state = KxState.CROSSES
    elif total >= (threshold * cat.kx.approaching_fraction).quantize(CENT, rounding=ROUND_HALF_UP):
        state = KxState.APPROACHING
    else:
        state = KxState.BELOW
    review = cat.kx.review_amount if year <= cat.kx.review_through_year else None
    review_reached = review is not None and total > review

    # Claims *above* the threshold need KX (facts.md F.4), so reaching it exactly does not.
    kx_required = total > threshold
    warnings: list[BillingWarning] = []
    evidence = found.evidence
    unverified = "" if evidence.status == "verified" else f" (the {year} threshold is {evidence.status.upper()})"
    if state is KxState.APPROACHING:
        warnings.append(BillingWarning.cited(
            "kx_approaching",
            f"KX threshold ${threshold:,.2f} for {year}: the running total will be ${total:,.2f}, "
            f"${threshold - total:,.2f} below it{unverified}. Claims above it need the KX modifier and "
            "documented medical necessity; plan for it now.", evidence))
    elif state is KxState.CROSSES:
        warnings.append(BillingWarning.cited(
            "kx_required",
            f"This visit takes the running total from ${before:,.2f} to ${total:,.2f}, over the {year} KX threshold "
            f"of ${threshold:,.2f}{unverified}: append KX (with documented medical necessity) or the claim is denied.",
            evidence, modifiers=("KX",)))
    elif state is KxState.ABOVE:
        warnings.append(BillingWarning.cited(
            "kx_required",
            f"The running total ${before:,.2f} is already over the {year} KX threshold of ${threshold:,.2f}"
            f"{unverified}: every claim needs KX (with documented medical necessity) or it is denied.",
            evidence, modifiers=("KX",)))
    if review is not None and review_reached:
        warnings.append(BillingWarning.cited(
            "kx_medical_review",
            f"The running total ${total:,.2f} is over the targeted medical review threshold of ${review:,.2f}: "
            "the claim may be selected for medical review.", cat.kx.review_evidence))
    return KxStatus(year=year, threshold=threshold, year_to_date=before, additional=extra, total=total,
                    remaining=threshold - total, state=state, kx_required=kx_required, review_threshold=review,
                    review_reached=review_reached, warnings=tuple(warnings), threshold_evidence=evidence)


def kx_running_totals(charges: Iterable[KxCharge], cat: Catalogue | None = None) -> tuple[KxStatus, ...]:
    """KX status of every visit, with a running total per patient and calendar year.

    Visits are totalled in date order (ties in the order given); the result is in the order given.
    The total starts again at zero each calendar year, as the threshold is per calendar year.
    """
    cat = cat or catalogue()
    visits = list(charges)
    order = sorted(range(len(visits)), key=lambda i: visits[i].date_of_service)
    totals: dict[tuple[str, int], Decimal] = {}
    results: dict[int, KxStatus] = {}
    for i in order:
        visit = visits[i]
        key = (visit.patient, visit.date_of_service.year)
        before = totals.get(key, Decimal(0))
        status = kx_status(visit.date_of_service.year, before, visit.amount, cat)
        totals[key] = status.total
        results[i] = status
    return tuple(results[i] for i in range(len(visits)))
