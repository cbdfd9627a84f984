from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def words(code: object) -> str:
    """A vocabulary code as words for people: ``same_day`` → ``same day``."""
    return str(code or "").replace("_", " ")
