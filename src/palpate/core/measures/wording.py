"""Attach a clinic's licensed questionnaire wording to an instrument.

Palpate ships no copyrighted item wording (ODI, NDI and QuickDASH among the licensed ones): the
forms show our own topic labels and generic answer labels. A clinic that holds a licence gives its
copy as YAML or JSON text (the web app reads the upload; the core does no I/O):

    instrument: odi            # optional; must match when given
    items:
      1: "Question text as licensed"
      2:
        text: "Question text"
        options: {0: "first statement", 1: "...", 5: "last statement"}

A multi-scale instrument (BCTQ) nests the items under its scale codes
(``items: {symptom_severity: {1: ...}, functional_status: {...}}``). Every item must be given,
exactly once; options, when given for an item, must cover every answer value of that item. The
file is checked as a whole, so a half-loaded questionnaire never reaches a patient.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import yaml

from palpate.core.errors import InputError
from palpate.core.measures.catalogue import instrument as find_instrument
from palpate.core.measures.model import AnswerOption, Instrument, Item, Scale


def load_licensed_wording(code: str, text_or_mapping: str | Mapping[Any, Any]) -> Instrument:
    """A copy of instrument ``code`` carrying the licensed wording; the catalogue is left unchanged."""
    inst = find_instrument(code)
    if inst.scales[0].min_items != inst.scales[0].max_items:
        raise InputError("not_applicable", f"{code}'s activities are named by the patient; there is no item "
                         "wording to load", "items")
    data = _parse(text_or_mapping)
    named = data.get("instrument")
    if named is not None and named != code:
        raise InputError("wrong_instrument", f"the file is for {named!r}, not {code!r}", "instrument")
    items = data.get("items", data if named is None else None)
    if not isinstance(items, Mapping):
        raise InputError("missing_field", "the file needs an 'items' mapping of item number to wording", "items")

    if inst.is_multiscale:
        for key in items:
            if key not in inst.scale_codes:
                raise InputError("unknown_scale", f"{code} has no scale {key!r}; its scales are "
                                 + ", ".join(inst.scale_codes), f"items.{key}")
        scales = []
        for scale in inst.scales:
            given = items.get(scale.code)
            if not isinstance(given, Mapping):
                raise InputError("missing_field", f"the wording of the {scale.code} items is missing",
                                 f"items.{scale.code}")
            scales.append(_word_scale(scale, given, f"items.{scale.code}"))
    else:
        scales = [_word_scale(inst.scales[0], items, "items")]
    return dataclasses.replace(inst, scales=tuple(scales))


def _parse(text_or_mapping: str | Mapping[Any, Any]) -> Mapping[Any, Any]:
    if isinstance(text_or_mapping, str):
        try:
            data = yaml.safe_load(text_or_mapping)  # JSON is YAML too
        except yaml.YAMLError as exc:
            raise InputError("malformed_file", f"the wording file is not valid YAML or JSON: {exc}") from exc
        except ValueError as exc:
            # YAML reads an unquoted 2026-02-30 as a date and fails on it outside its own errors.
            raise InputError("malformed_file", f"the wording file has a value YAML reads as a date or time that "
                             f"cannot exist ({exc}); put quotes around text that looks like a date") from exc
        except RecursionError as exc:
            raise InputError("malformed_file", "the wording file is nested too deeply to be a questionnaire's "
                             "wording") from exc
    else:
        data = text_or_mapping
    if not isinstance(data, Mapping):
        raise InputError("wrong_type", "the wording file must be a mapping")
    return data


def _word_scale(scale: Scale, given: Mapping[Any, Any], path: str) -> Scale:
    by_number: dict[int, Any] = {}
    for key, value in given.items():
        number = _item_number(key)
        if number is None or not 1 <= number <= len(scale.items):
            raise InputError("unknown_item", f"no item {key!r}; items are numbered 1 to {len(scale.items)}",
                             f"{path}.{key}")
        if number in by_number:
            raise InputError("duplicate_item", f"item {number} is given twice", f"{path}.{key}")
        by_number[number] = value
    if len(by_number) != len(scale.items):
        absent = [str(item.number) for item in scale.items if item.number not in by_number]
        raise InputError("wrong_count", f"the wording must cover all {len(scale.items)} items; missing: "
                         + ", ".join(absent), path)
    return dataclasses.replace(scale, items=tuple(_word_item(item, by_number[item.number], f"{path}.{item.number}")
                                                  for item in scale.items))


def _word_item(item: Item, value: Any, path: str) -> Item:
    text: object
    options: object
    if isinstance(value, str):
        text, options = value, None
    elif isinstance(value, Mapping):
        text, options = value.get("text"), value.get("options")
    else:
        raise InputError("wrong_type", "an item's wording is a text, or a mapping with text and options", path)
    if not isinstance(text, str) or not text.strip():
        raise InputError("missing_field", f"item {item.number} ({item.topic}) needs its text", f"{path}.text")
    worded: tuple[AnswerOption, ...] = ()
    if options is not None:
        if not isinstance(options, Mapping):
            raise InputError("wrong_type", "options map each answer value to its wording", f"{path}.options")
        by_value: dict[int, str] = {}
        for key, label in options.items():
            value_number = _item_number(key)
            if value_number is None or not item.min_answer <= value_number <= item.max_answer:
                raise InputError("out_of_range", f"item {item.number} takes answers {item.min_answer} to "
                                 f"{item.max_answer}, not {key!r}", f"{path}.options.{key}")
            if not isinstance(label, str) or not label.strip():
                raise InputError("wrong_type", "an option's wording is a text", f"{path}.options.{key}")
            by_value[value_number] = label.strip()
        if len(by_value) != len(item.scale):
            raise InputError("wrong_count", f"item {item.number} has {len(item.scale)} answers; give the wording "
                             f"of each, got {len(by_value)}", f"{path}.options")
        worded = tuple(AnswerOption(option.value, by_value[option.value]) for option in item.scale)
    return dataclasses.replace(item, wording=text.strip(), option_wording=worded)


def _item_number(key: object) -> int | None:
    """Item numbers and answer values arrive as ints (YAML) or digit strings (JSON object keys)."""
    if isinstance(key, bool):
        return None
    if isinstance(key, int):
        return key
    if isinstance(key, str) and key.strip().isdigit():
        return int(key.strip())
    return None
