"""Choices and labels for forms, taken from the clinical core's knowledge base (one source)."""

from __future__ import annotations

from functools import cache

from palpate.core.planning import condition_catalogue
from palpate.core.regions import regions


@cache
def _conditions() -> dict[str, str]:
    return {c.code: c.label for c in condition_catalogue()}


@cache
def _regions() -> tuple[tuple[str, str, bool], ...]:
    return tuple((r.code, r.label, r.paired) for r in regions() if r.kind == "region")


def paired_regions() -> frozenset[str]:
    return frozenset(code for code, _, paired in _regions() if paired)


def label(code: str) -> str:
    return _conditions().get(code) or code.replace("_", " ").capitalize()


def condition_choices() -> list[tuple[str, str]]:
    return list(_conditions().items())


def region_choices() -> list[tuple[str, str]]:
    return [(code, text) for code, text, _ in _regions()]


def region_groups() -> dict[str, tuple[str, ...]]:
    return {r.code: r.members for r in regions() if r.kind == "group"}
