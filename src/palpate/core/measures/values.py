"""Checking the values people send in: answers, scores and degrees.

The same checks serve the command line and the web app, so a bad value gets the same
``InputError`` (code, message, path) whichever door it came through.

Decisions (the contract is silent on them):
- An answer is a whole number or ``null``. JSON ``true``/``false`` and strings are rejected
  (``wrong_type``): Python treats ``True`` as 1, a form must not. A whole-valued float such as
  ``2.0`` is accepted as 2, because some JSON writers (Python's own) emit numbers that way; a
  fractional answer such as ``2.5`` is rejected, since no item has half-steps.
- A score (``baseline``, ``follow_up``, a series) is any finite number, integer or not (means and
  percentages are fractional), within the scale's range.
"""

from __future__ import annotations

import math
from decimal import Decimal

from palpate.core.errors import InputError


def answer(value: object, path: str) -> int | None:
    """An item's answer as an int, ``None`` for unanswered; anything else is an ``InputError``."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise InputError("wrong_type", f"an answer is a whole number or null, not {str(value).lower()}", path)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return int(value)
        raise InputError("wrong_type", f"an answer is a whole number, not {value!r}", path)
    raise InputError("wrong_type", f"an answer is a whole number or null, not {_kind(value)}", path)


def number(value: object, path: str, what: str = "a number") -> float:
    """A finite real number (int or float, never a bool or a string)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError("wrong_type", f"expected {what}, got {_kind(value)}", path)
    if not math.isfinite(value):
        raise InputError("wrong_type", f"expected a finite number, got {value!r}", path)
    return value


def in_range(value: float, low: float, high: float, path: str, what: str) -> float:
    if not low <= value <= high:
        raise InputError("out_of_range", f"{what} must be between {_fmt(low)} and {_fmt(high)}, got {_fmt(value)}",
                         path)
    return value


def exact(value: float) -> Decimal:
    """The decimal a person wrote: 1.95 is 1.95, not 1.9499999999999999555910790149937.

    Change scores are differences of numbers people (or ``score``) wrote down; comparing them with
    an MCID in binary floating point would make 3.0 -> 1.95 miss an MCID of 1.05 by 2e-16.
    """
    return Decimal(value) if isinstance(value, int) else Decimal(repr(value))


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
