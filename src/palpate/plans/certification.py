"""When a signed plan of care must be re-certified and the patient re-evaluated.

Both are product policy, not clinical rules of the core: a clinic's payer contracts may ask for
shorter intervals, which is why they are named constants here and shown with their source.
"""

from __future__ import annotations

import datetime as dt

# POLICY (payer rule): Medicare certifies an outpatient therapy plan of care for at most 90
# calendar days (Medicare Benefit Policy Manual, Chapter 15, §220.1.2-220.1.3). The plan must be
# re-certified at the end of its duration or after 90 days, whichever comes first. We apply the
# same ceiling to every payer so no plan silently runs past it.
RECERTIFY_MAX_DAYS = 90

# POLICY (product default): re-evaluate 30 days after the plan starts, and never later than the
# re-certification date. Not a payer requirement; a conservative checkpoint for the progress
# review (planning-policy.md §4 prompts a re-evaluation when progress stalls).
REEVALUATE_AFTER_DAYS = 30

# How far ahead the chart and the start page warn that a re-certification or re-evaluation is due
# (product policy: two weeks leaves time to book the re-evaluation visit).
LOOKAHEAD_DAYS = 14

# How many visits a week and how many weeks a plan may name (form limits, policy).
MAX_FREQUENCY_PER_WEEK = 7
MAX_DURATION_WEEKS = 52


def recertify_by(start: dt.date, duration_weeks: int) -> dt.date:
    """The end of the plan's duration, but no later than RECERTIFY_MAX_DAYS after it starts."""
    return min(start + dt.timedelta(weeks=duration_weeks), start + dt.timedelta(days=RECERTIFY_MAX_DAYS))


def reevaluate_by(start: dt.date, duration_weeks: int) -> dt.date:
    return min(start + dt.timedelta(days=REEVALUATE_AFTER_DAYS), recertify_by(start, duration_weeks))
