"""Small schema checks for the knowledge-base YAML files.

Every failure raises ``KnowledgeBaseError(file, key, problem)`` with a dotted key path, so a clinic
that edits a rule file learns exactly which line of which file to fix. Unknown keys are errors too:
in a safety rule a misspelt key (``max_presure``) must not silently fall back to a default.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, NoReturn

from palpate.core.errors import KnowledgeBaseError
from palpate.core.kb.loader import optional, require


class Doc:
    """Typed accessors over one parsed YAML document, naming the file in every error."""

    def __init__(self, filename: str) -> None:
        self.file = filename

    def fail(self, where: str, problem: str) -> NoReturn:
        raise KnowledgeBaseError(self.file, where or "-", problem)

    @staticmethod
    def path(where: str, key: str) -> str:
        return f"{where}.{key}" if where else key

    def mapping(self, value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail(where, f"expected a mapping, got {_kind(value)}")
        for key in value:
            if not isinstance(key, str):
                self.fail(where, f"keys must be text, got {key!r}")
        return value

    def known(self, mapping: Mapping[str, Any], allowed: Collection[str], where: str) -> None:
        for key in mapping:
            if key not in allowed:
                self.fail(self.path(where, key), f"unknown key (allowed: {', '.join(sorted(allowed))})")

    def map_of(self, mapping: Any, key: str, where: str) -> dict[str, Any]:
        return self.mapping(require(mapping, key, dict, self.file, where), self.path(where, key))

    def text(self, mapping: Any, key: str, where: str) -> str:
        value: str = require(mapping, key, str, self.file, where)
        if not value.strip():
            self.fail(self.path(where, key), "must not be empty")
        return value

    def opt_text(self, mapping: Any, key: str, where: str) -> str | None:
        value: str | None = optional(mapping, key, str, self.file, where)
        return value

    def boolean(self, mapping: Any, key: str, where: str, default: bool = False) -> bool:
        value: bool = optional(mapping, key, bool, self.file, where, default)
        return value

    def integer(self, mapping: Any, key: str, where: str) -> int:
        value: int = require(mapping, key, int, self.file, where)
        return value

    def number(self, mapping: Any, key: str, where: str) -> float:
        value = require(mapping, key, (int, float), self.file, where)
        return float(value)

    def choice(self, mapping: Any, key: str, allowed: Collection[str], where: str,
               default: str | None = None) -> str:
        if default is not None and (not isinstance(mapping, dict) or mapping.get(key) is None):
            return default
        value = self.text(mapping, key, where)
        if value not in allowed:
            self.fail(self.path(where, key), f"{value!r} is not one of {', '.join(sorted(allowed))}")
        return value

    def codes(self, mapping: Any, key: str, where: str, allowed: Collection[str] | None = None,
              required: bool = True) -> tuple[str, ...]:
        """A list of text codes, each (optionally) from ``allowed``, without duplicates."""
        if not required and (not isinstance(mapping, dict) or mapping.get(key) is None):
            return ()
        items = require(mapping, key, list, self.file, where)
        where_key = self.path(where, key)
        seen: list[str] = []
        for index, item in enumerate(items):
            if not isinstance(item, str) or not item:
                self.fail(f"{where_key}[{index}]", f"expected a code, got {_kind(item)}")
            if allowed is not None and item not in allowed:
                self.fail(f"{where_key}[{index}]", f"unknown code {item!r}")
            if item in seen:
                self.fail(f"{where_key}[{index}]", f"{item!r} is listed twice")
            seen.append(item)
        return tuple(seen)

    def listing(self, mapping: Any, key: str, where: str, required: bool = True) -> list[Any]:
        if not required and (not isinstance(mapping, dict) or mapping.get(key) is None):
            return []
        value: list[Any] = require(mapping, key, list, self.file, where)
        return value


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "a boolean"
    return type(value).__name__
