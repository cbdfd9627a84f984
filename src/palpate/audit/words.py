"""An audit event in words: its action ("Visit: sign") and its changes ("Pressure: light -> moderate").

The trail stores what changed as JSON (field -> value) so it can be verified byte for byte; the log
page shows each field and value in the words of the vocabulary (``palpate.core.vocabulary``), one
"field: old -> new" line per field, never the raw JSON.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from palpate.core import vocabulary

NOTHING = "—"
LONGEST = 160  # a value longer than this (a note's text) is cut, the export keeps it whole


def field_words(key: str) -> str:
    if vocabulary.knows(key):
        return vocabulary.label(key)
    text = key.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def value_words(value: Any) -> str:
    if value is None or value == "" or value == [] or value == {}:
        return NOTHING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return _cut(vocabulary.label(value) if vocabulary.knows(value) else value)
    if isinstance(value, list | tuple):
        return _cut(", ".join(value_words(v) for v in value))
    if isinstance(value, Mapping):
        return _cut("; ".join(f"{field_words(str(k)).lower()} {value_words(v)}" for k, v in value.items()))
    return _cut(str(value))


def _cut(text: str) -> str:
    return text if len(text) <= LONGEST else text[: LONGEST - 1].rstrip() + "…"


def change_lines(old: Any, new: Any) -> list[str]:
    """One "field: old -> new" line per field (a field only in ``new`` is "field: value")."""
    before = old if isinstance(old, Mapping) else ({} if old is None else {"value": old})
    after = new if isinstance(new, Mapping) else ({} if new is None else {"value": new})
    lines = []
    for key in [*after, *(k for k in before if k not in after)]:
        name = field_words(str(key))
        if key in before and key in after:
            lines.append(f"{name}: {value_words(before[key])} -> {value_words(after[key])}")
        elif key in after:
            lines.append(f"{name}: {value_words(after[key])}")
        else:
            lines.append(f"{name}: {value_words(before[key])} -> {NOTHING}")
    return lines


def action_words(action: str) -> str:
    """``portal.check_ins_view`` -> "Portal: check ins view"."""
    subject, _, verb = action.partition(".")
    subject_words = subject.replace("_", " ").capitalize()
    return f"{subject_words}: {verb.replace('_', ' ').replace('.', ', ')}" if verb else subject_words


def action_choices(actions: Iterable[str], chosen: str = "") -> list[tuple[str, str]]:
    """The audit log's action filter in words: every action of a subject ("Patient: every action",
    the filter matching its prefix), then each action; ``chosen`` is kept even if no event has it
    (a code typed into the URL still filters, and the list shows it)."""
    known = sorted(set(actions) | ({chosen} if chosen else set()))
    choices: list[tuple[str, str]] = [("", "Every action")]
    for subject in sorted({a.partition(".")[0] for a in known}):
        choices.append((subject, f"{action_words(subject)}: every action"))
        choices += [(a, action_words(a)) for a in known if a.partition(".")[0] == subject and a != subject]
    return choices
