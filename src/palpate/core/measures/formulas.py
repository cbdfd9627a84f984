"""The published scoring formulas, computed exactly.

Scores are computed with ``fractions.Fraction`` and turned into a float once, at the end: the
float is then the correctly rounded value of the published formula (16/45 x 100 gives
35.55555555555556 whatever the order of operations), band boundaries compare exactly (an ODI of
exactly 20 is "minimal", never 20.000000000000004), and all-maximum answers give exactly the
range's maximum.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

from palpate.core.measures.model import Scale, ScoringMethod


def compute(scale: Scale, answered: Sequence[int]) -> Fraction:
    """The scale's score from the answered items only (unanswered ones already left out).

    ``answered`` must be non-empty; which items may be missing is the caller's rule.
    """
    n = len(answered)
    total = sum(answered)
    method = scale.scoring.method
    if method is ScoringMethod.SINGLE:
        # NPRS: the one 0-10 rating is the score (facts.md E).
        return Fraction(answered[0])
    if method is ScoringMethod.SUM:
        # LEFS: sum of the 20 items, 0-80 (Binkley 1999).
        return Fraction(total)
    if method is ScoringMethod.MEAN:
        # PSFS: mean of the activities rated (Stratford 1995); BCTQ: mean per scale (Levine 1993).
        return Fraction(total, n)
    if method is ScoringMethod.PERCENT_OF_ANSWERED_MAXIMUM:
        # ODI v2.1a / NDI: sum / (5 x sections answered) x 100; an unanswered section lowers the
        # denominator by 5 (ODI form; Noterro for the NDI).
        item_max = scale.items[0].max_answer
        return Fraction(total, item_max * n) * 100
    if method is ScoringMethod.DASH_RESCALED_MEAN:
        # QuickDASH: ((sum of n responses / n) - 1) x 25 (DASH scoring manual; Gummesson 2006).
        return (Fraction(total, n) - 1) * 25
    raise AssertionError(f"unhandled scoring method {method}")  # the loader accepts only the above
