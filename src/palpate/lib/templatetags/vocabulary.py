"""Words for codes in templates, from the one vocabulary (``palpate.lib.vocabulary``).

``{{ code|label }}`` ("Open or healing wound"), ``{{ code|label:"urgency" }}`` where a code means
different things in different lists, ``{{ codes|labels }}`` ("effleurage, petrissage"),
``{% where region side %}`` ("left forearm"), ``{{ row|place }}`` ("Left forearm"),
``{{ code|because }}`` (a reason, a positive screen), ``{{ session|session_meaning }}`` and
``{{ max_pressure|cap_words }}`` ("light pressure at most").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django import template

from palpate.lib import vocabulary

register = template.Library()


@register.filter
def label(code: object, kind: str | None = None) -> str:
    return vocabulary.label(str(code), kind) if code not in (None, "") else ""


@register.filter
def labels(codes: Iterable[object] | None, kind: str | None = None) -> str:
    return ", ".join(vocabulary.label(str(c), kind).lower() for c in codes or [])


@register.simple_tag
def where(region: object, side: object = "") -> str:
    return vocabulary.where(str(region or ""), str(side) if side else None)


@register.filter
def place(item: Mapping[str, Any] | None) -> str:
    return vocabulary.place(item)


@register.filter
def because(code: object) -> str:
    return vocabulary.because_label(str(code))


@register.filter
def session_meaning(code: object) -> str:
    return vocabulary.session_meaning(str(code or ""))


@register.filter
def cap_words(max_pressure: object) -> str:
    return vocabulary.cap_words(str(max_pressure or ""))
