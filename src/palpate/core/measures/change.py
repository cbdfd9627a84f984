"""Is a change clinically important? Change scores, responder status and progression signals.

``change``: follow-up minus baseline, judged against the scale's MCID (stored in the units the
score is reported in) and its better-direction (contract ``palpate change``).

Decisions (the contract is silent on them):
- ``meets_mcid`` is ``abs(change) >= mcid``: a change of exactly the MCID meets it ("improved by
  its MCID"). The arithmetic is decimal on the numbers as written (see ``values.exact``), so 3.0 ->
  1.95 on the BCTQ is a change of exactly -1.05 and meets an MCID of 1.05.
- ``percent_change`` is relative to the baseline; with a baseline of 0 there is no relative change
  and it is ``None`` (JSON null).
- Ostelo 2008's alternative "30% improvement" (NPRS, ODI) is reported as ``meets_relative_mcid``
  next to the contract's points-based ``meets_mcid``; ``direction`` follows ``meets_mcid`` only.
- A responder status compares the episode's first score (baseline) with its latest; with fewer
  than two scores it is ``insufficient_data``.
- Progression (planning-policy.md §4): ready for active rehab when the latest NPRS is at most 3 and
  the main measure improved by its MCID; re-evaluation due once 6 or more visits have passed with no
  important change on the main measure, and also when it is worse (if no change warrants a look,
  a worsening does all the more). With fewer than two scores after that many visits, the signal is
  ``remeasure_due``: nothing can be judged until the main measure is repeated.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from palpate.core.errors import InputError
from palpate.core.measures import values
from palpate.core.measures.catalogue import instrument as find_instrument
from palpate.core.measures.catalogue import progression_policy
from palpate.core.measures.model import (
    TOTAL,
    Better,
    ChangeResult,
    Direction,
    Instrument,
    ProgressionSignals,
    Responder,
    ResponderStatus,
    Scale,
)


def change(code: str, baseline: float, follow_up: float, scale: str | None = None) -> ChangeResult:
    """Judge the change from ``baseline`` to ``follow_up`` (scores in ``score``'s units)."""
    inst = find_instrument(code)
    chosen = pick_scale(inst, scale)
    first = score_value(chosen, baseline, "baseline")
    latest = score_value(chosen, follow_up, "follow_up")
    return _judge(inst, chosen, first, latest)


def responder_status(code: str, series: Sequence[float], scale: str | None = None) -> ResponderStatus:
    """Responder status over an episode's scores, oldest first: the latest against the first."""
    inst = find_instrument(code)
    chosen = pick_scale(inst, scale)
    if isinstance(series, (str, bytes)) or not isinstance(series, Sequence):
        raise InputError("wrong_type", "series is a list of scores, oldest first", "series")
    scores = [score_value(chosen, value, f"series[{i}]") for i, value in enumerate(series)]
    label = _label(inst, chosen)
    if len(scores) < 2:
        return ResponderStatus(instrument=inst.code, scale=chosen.code, status=Responder.INSUFFICIENT_DATA,
                               scores_count=len(scores), baseline=scores[0] if scores else None,
                               latest=scores[-1] if scores else None, change=None,
                               reason=f"{label}: {len(scores)} score(s); two are needed to judge a change")
    result = _judge(inst, chosen, scores[0], scores[-1])
    status = Responder(result.direction.value)
    verdict = {Responder.IMPROVED: "improved by at least its MCID",
               Responder.WORSE: "worse by at least its MCID",
               Responder.NO_IMPORTANT_CHANGE: "no important change"}[status]
    reason = (f"{label} {_fmt(scores[0])} -> {_fmt(scores[-1])} (change {_fmt(result.change)}, "
              f"MCID {_fmt(result.mcid)}): {verdict}")
    return ResponderStatus(instrument=inst.code, scale=chosen.code, status=status, scores_count=len(scores),
                           baseline=scores[0], latest=scores[-1], change=result, reason=reason)


def progression_signals(nprs_latest: float | None, main_measure_code: str, main_series: Sequence[float],
                        visits_count: int, *, main_scale: str | None = None) -> ProgressionSignals:
    """The bridge to active rehab and the re-evaluation prompt of planning-policy.md §4."""
    policy = progression_policy()
    nprs_scale = find_instrument("nprs").scale()
    nprs = None if nprs_latest is None else score_value(nprs_scale, nprs_latest, "nprs_latest")
    if isinstance(visits_count, bool) or not isinstance(visits_count, int):
        raise InputError("wrong_type", "visits_count is a whole number", "visits_count")
    if visits_count < 0:
        raise InputError("out_of_range", "visits_count cannot be negative", "visits_count")
    responder = responder_status(main_measure_code, main_series, main_scale)
    main_instrument = find_instrument(main_measure_code)
    main = _label(main_instrument, main_instrument.scale(responder.scale))
    reasons: list[str] = []

    # Bridge to active rehab: NPRS <= 3 and the main measure improved by its MCID (§4).
    improved = responder.status is Responder.IMPROVED
    low_pain = nprs is not None and nprs <= policy.bridge_nprs_max
    ready = improved and low_pain
    limit = _fmt(policy.bridge_nprs_max)
    if nprs is None:
        reasons.append("no current NPRS: the bridge to active rehab needs one")
    elif low_pain:
        reasons.append(f"NPRS {_fmt(nprs)} is {limit} or less")
    else:
        reasons.append(f"NPRS {_fmt(nprs)} is above {limit}")
    reasons.append(responder.reason)
    if ready:
        reasons.append("ready to shift emphasis from soft-tissue work to active exercise")

    # Re-evaluation: no important change on the main measure after 6 visits (§4).
    due_visits = visits_count >= policy.reevaluation_after_visits
    re_evaluate = due_visits and responder.status in (Responder.NO_IMPORTANT_CHANGE, Responder.WORSE)
    remeasure = due_visits and responder.status is Responder.INSUFFICIENT_DATA
    if re_evaluate:
        what = "no important change" if responder.status is Responder.NO_IMPORTANT_CHANGE else "worse"
        reasons.append(f"{what} on {main} after {visits_count} visits: re-evaluate")
    if remeasure:
        reasons.append(f"{visits_count} visits and {main} not repeated: repeat it to judge progress")
    return ProgressionSignals(ready_for_active_rehab=ready, re_evaluation_due=re_evaluate, remeasure_due=remeasure,
                              reasons=tuple(reasons), responder=responder, nprs_latest=nprs,
                              visits_count=visits_count, source=policy.source.cite())


# ---------------------------------------------------------------------------------------------


def pick_scale(inst: Instrument, scale: object) -> Scale:
    """The scale a change is about: required for the BCTQ, absent (or ``total``) otherwise."""
    names = ", ".join(inst.scale_codes)
    if scale is None:
        if inst.is_multiscale:
            raise InputError("missing_field", f"{inst.code} has two scales; say which: {names}", "scale")
        return inst.scales[0]
    if not isinstance(scale, str):
        raise InputError("wrong_type", f"scale is one of {names}", "scale")
    if not inst.is_multiscale and scale != TOTAL:
        raise InputError("unknown_scale", f"{inst.code} has a single scale; leave scale out", "scale")
    try:
        return inst.scale(scale)
    except KeyError:
        raise InputError("unknown_scale", f"{inst.code} has no scale {scale!r}; its scales are {names}",
                         "scale") from None


def score_value(scale: Scale, value: object, path: str) -> float:
    """A score in the scale's units and range (any finite number: means and percentages are fractional)."""
    number = values.number(value, path, "a score (a number)")
    return values.in_range(number, scale.range[0], scale.range[1], path, f"a {scale.units} score")


def _judge(inst: Instrument, scale: Scale, baseline: float, follow_up: float) -> ChangeResult:
    start, end = values.exact(baseline), values.exact(follow_up)
    delta = end - start
    mcid = scale.mcid
    meets = abs(delta) >= values.exact(mcid.value)
    if not meets:
        direction = Direction.NO_IMPORTANT_CHANGE
    elif (delta < 0) == (scale.better is Better.LOWER):
        direction = Direction.IMPROVED
    else:
        direction = Direction.WORSE
    percent = None if start == 0 else delta / start * 100

    meets_mdc = None if scale.mdc is None else abs(delta) >= values.exact(scale.mdc.value)
    meets_relative = None
    if mcid.relative_percent is not None and percent is not None:
        improvement = -percent if scale.better is Better.LOWER else percent
        meets_relative = improvement >= values.exact(mcid.relative_percent)

    source = mcid.source.cite()
    if mcid.converted_from is not None:
        conv = mcid.converted_from
        source += (f"; published as {_fmt(conv.value)} {conv.units}, x {_fmt(conv.factor)} = "
                   f"{_fmt(mcid.value)} {mcid.units}")
    return ChangeResult(
        instrument=inst.code, scale=scale.code, baseline=baseline, follow_up=follow_up, change=float(delta),
        percent_change=None if percent is None else float(percent), mcid=mcid.value, meets_mcid=meets,
        direction=direction, source=source, units=mcid.units, mcid_kind=mcid.kind, better=scale.better,
        mdc=None if scale.mdc is None else scale.mdc.value, meets_mdc=meets_mdc,
        relative_mcid_percent=mcid.relative_percent, meets_relative_mcid=meets_relative,
        whole_numbers=isinstance(baseline, int) and isinstance(follow_up, int) and delta == delta.to_integral_value(),
    )


def _label(inst: Instrument, scale: Scale) -> str:
    return inst.abbreviation if scale.code == TOTAL else f"{inst.abbreviation} {scale.code.replace('_', ' ')}"


def _fmt(value: float | Decimal) -> str:
    number = float(value)
    return str(int(number)) if number.is_integer() else f"{number:g}"
