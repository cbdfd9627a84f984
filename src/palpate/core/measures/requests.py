"""The command-line contract's requests: ``palpate score`` and ``palpate change`` (JSON in, JSON out).

``palpate.cli`` parses the JSON and turns an ``InputError`` into exit 2 with a JSON error on
standard error; these functions check the request's shape and hand over to the Python API.
Extra fields in a request are ignored (forward compatible); missing or mistyped ones are errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from palpate.core.errors import InputError
from palpate.core.measures.catalogue import instrument
from palpate.core.measures.change import change
from palpate.core.measures.scoring import score


def score_request(payload: Mapping[str, Any]) -> dict[str, Any]:
    """``{"instrument": "odi", "answers": [...]}`` -> a ``palpate.score/1`` document."""
    code = _instrument_code(payload)
    if "answers" not in payload:
        raise InputError("missing_field", "the request needs 'answers'", "answers")
    return score(code, payload["answers"]).as_json()


def change_request(payload: Mapping[str, Any]) -> dict[str, Any]:
    """``{"instrument": "odi", "baseline": 40, "follow_up": 28}`` -> a ``palpate.change/1`` document."""
    code = _instrument_code(payload)
    for field in ("baseline", "follow_up"):
        if field not in payload:
            raise InputError("missing_field", f"the request needs '{field}' (a score in the units palpate score "
                             "returns)", field)
    return change(code, payload["baseline"], payload["follow_up"], payload.get("scale")).as_json()


def _instrument_code(payload: Mapping[str, Any]) -> str:
    if "instrument" not in payload:
        raise InputError("missing_field", "the request needs 'instrument'", "instrument")
    code = payload["instrument"]
    if not isinstance(code, str):
        raise InputError("wrong_type", "instrument is a code such as \"odi\"", "instrument")
    return instrument(code).code
