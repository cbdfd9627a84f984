"""Read the knowledge base's packaged YAML files.

The knowledge base is versioned data shipped inside the package (``palpate/core/kb/*.yaml``).
Modules that own a part of it (rules, measures, billing) load and validate their own files with
these helpers so that every problem names the file, the key and what is wrong.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

import yaml

from palpate.core.errors import KnowledgeBaseError

KB_PACKAGE = "palpate.core.kb"


def load_yaml(filename: str) -> Any:
    """Parse one packaged knowledge-base file; a syntax error names the file."""
    try:
        text = resources.files(KB_PACKAGE).joinpath(filename).read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise KnowledgeBaseError(filename, "-", "file is missing from the knowledge base") from exc
    return parse_yaml(text, filename)


# libyaml's C parser is several times faster than the pure-Python one; both are "safe" loaders
# (no arbitrary objects), so the CLI's start-up time is the only difference.
_SafeLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_yaml(text: str, filename: str) -> Any:
    try:
        return yaml.load(text, Loader=_SafeLoader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        raise KnowledgeBaseError(filename, "-", f"not valid YAML: {exc}") from exc


def require(mapping: Any, key: str, kind: type | tuple[type, ...], filename: str, where: str) -> Any:
    """Return ``mapping[key]`` checked against ``kind``, or fail naming file, key and problem."""
    path = f"{where}.{key}" if where else key
    if not isinstance(mapping, dict):
        raise KnowledgeBaseError(filename, where or "-", "expected a mapping")
    if key not in mapping:
        raise KnowledgeBaseError(filename, path, "required key is missing")
    value = mapping[key]
    # bool is an int in Python; a YAML `yes` must not pass for a number.
    if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
        raise KnowledgeBaseError(filename, path, f"expected {_kind_name(kind)}, got a boolean")
    if not isinstance(value, kind):
        raise KnowledgeBaseError(filename, path, f"expected {_kind_name(kind)}, got {type(value).__name__}")
    return value


def optional(mapping: Any, key: str, kind: type | tuple[type, ...], filename: str, where: str,
             default: Any = None) -> Any:
    if isinstance(mapping, dict) and key in mapping and mapping[key] is not None:
        return require(mapping, key, kind, filename, where)
    return default


def _kind_name(kind: type | tuple[type, ...]) -> str:
    if isinstance(kind, tuple):
        return " or ".join(k.__name__ for k in kind)
    return kind.__name__
