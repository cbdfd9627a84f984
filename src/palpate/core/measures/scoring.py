"""Score a questionnaire: check the answers, apply the missing-item rule, compute, band.

Bad input (unknown instrument, wrong number of answers, an answer off the item's scale, a value
of the wrong type) is an ``InputError``; too many unanswered items is not an error but a result
with ``valid=False`` and reason ``too_many_missing`` (contract ``palpate score``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from palpate.core.errors import InputError
from palpate.core.measures import values
from palpate.core.measures.catalogue import instrument as find_instrument
from palpate.core.measures.formulas import compute
from palpate.core.measures.model import (
    REASON_TOO_MANY_MISSING,
    Instrument,
    Scale,
    ScaleScore,
    ScoreResult,
)


def score(code: str, answers: object, *, max_missing: int | Mapping[str, int] | None = None) -> ScoreResult:
    """Score ``answers`` on instrument ``code``.

    ``answers`` is a list (``None`` for an unanswered item) or, for the BCTQ, a mapping of scale
    code to list. ``max_missing`` overrides a *policy* missing-item limit (ODI, NDI) with a
    clinic's own setting; a published rule (QuickDASH) or a not-scorable policy (LEFS, BCTQ) is
    not adjustable and overriding it is an ``InputError``.
    """
    inst = find_instrument(code)
    if inst.is_multiscale:
        lists = _scale_lists(inst, answers)
        parts = tuple(_score_scale(scale, lists[scale.code], f"answers.{scale.code}",
                                   _limit(inst, scale, max_missing), f"{inst.code} {scale.code}")
                      for scale in inst.scales)
    else:
        scale = inst.scales[0]
        if isinstance(answers, (Mapping, str, bytes)) or not isinstance(answers, Sequence):
            raise InputError("wrong_type", f"{inst.code} answers are a list of {scale.min_items}"
                             + ("" if scale.min_items == scale.max_items else f" to {scale.max_items}")
                             + " answers", "answers")
        parts = (_score_scale(scale, answers, "answers", _limit(inst, scale, max_missing), inst.code),)
    return ScoreResult(instrument=inst.code, parts=parts, range=inst.range, better=inst.better,
                       multiscale=inst.is_multiscale)


def _scale_lists(inst: Instrument, answers: object) -> dict[str, Sequence[object]]:
    names = " and ".join(inst.scale_codes)
    if not isinstance(answers, Mapping):
        raise InputError("wrong_type", f"{inst.code} answers are an object with {names} lists", "answers")
    for key in answers:
        if key not in inst.scale_codes:
            raise InputError("unknown_scale", f"{inst.code} has no scale {key!r}; its scales are {names}",
                             f"answers.{key}")
    lists: dict[str, Sequence[object]] = {}
    for scale in inst.scales:
        if scale.code not in answers:
            raise InputError("missing_field", f"{inst.code} needs the {scale.code} answers ({names})",
                             f"answers.{scale.code}")
        given = answers[scale.code]
        if isinstance(given, (str, bytes, Mapping)) or not isinstance(given, Sequence):
            raise InputError("wrong_type", f"{scale.code} answers are a list", f"answers.{scale.code}")
        lists[scale.code] = given
    return lists


def _limit(inst: Instrument, scale: Scale, override: int | Mapping[str, int] | None) -> int | None:
    """The missing-item limit in force: the knowledge base's, or a clinic's setting where allowed."""
    if override is None:
        return scale.missing.max_missing
    chosen = override.get(scale.code) if isinstance(override, Mapping) else override
    if chosen is None:
        return scale.missing.max_missing
    if isinstance(chosen, bool) or not isinstance(chosen, int):
        raise InputError("wrong_type", "max_missing is a whole number", "max_missing")
    if not scale.missing.adjustable:
        raise InputError("not_adjustable", f"{inst.code}'s missing-item rule is not a clinic setting: "
                         f"{scale.missing.rule}", "max_missing")
    if not 0 <= chosen < scale.min_items:
        raise InputError("out_of_range", f"max_missing must be between 0 and {scale.min_items - 1}", "max_missing")
    return chosen


def _score_scale(scale: Scale, given: Sequence[object], path: str, max_missing: int | None,
                 label: str) -> ScaleScore:
    count = len(given)
    if not scale.min_items <= count <= scale.max_items:
        wanted = (f"exactly {scale.min_items}" if scale.min_items == scale.max_items
                  else f"{scale.min_items} to {scale.max_items}")
        raise InputError("wrong_count", f"{label} takes {wanted} answers (null for an unanswered item), "
                         f"got {count}", path)

    answered: list[int] = []
    for index, (item, raw) in enumerate(zip(scale.items, given, strict=False)):
        where = f"{path}[{index}]"
        value = values.answer(raw, where)
        if value is None:
            continue
        if not item.min_answer <= value <= item.max_answer:
            raise InputError("out_of_range", f"item {item.number} ({item.topic}) takes {item.min_answer} to "
                             f"{item.max_answer}, got {value}", where)
        answered.append(value)

    missing = count - len(answered)
    too_many = not answered or (max_missing is not None and missing > max_missing)
    if too_many:
        return ScaleScore(scale=scale.code, valid=False, score=None, answered=len(answered), missing=missing,
                          max_missing=max_missing, band=None, reason=REASON_TOO_MANY_MISSING)
    exact = compute(scale, answered)
    return ScaleScore(scale=scale.code, valid=True, score=float(exact), answered=len(answered), missing=missing,
                      max_missing=max_missing, band=scale.band_for(exact))
