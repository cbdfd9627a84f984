"""Outcome measures: questionnaire scoring, MCID/MDC, change, responder status, progression, ROM.

The instruments (NPRS, ODI v2.1a, NDI, QuickDASH, LEFS, PSFS, BCTQ) are data in
``kb/instruments.yaml``, each rule with its source; the normal ROM reference sets are in
``kb/rom_norms.yaml``. This package is the pure-Python API the web app and ``palpate score`` /
``palpate change`` use:

- ``instrument(code)``, ``instruments()``: the catalogue, with items for the forms (our own topic
  words and generic answer labels; licensed wording via ``load_licensed_wording``).
- ``score(code, answers)`` -> ``ScoreResult``; ``change(code, baseline, follow_up, scale)`` ->
  ``ChangeResult``; ``responder_status``; ``progression_signals``.
- ``rom_norm``, ``percent_of_normal``, ``rom_references``; ``rom_limit`` and ``check_rom`` (physiological limits).
- ``score_request``, ``change_request``: the command-line contract (JSON documents).
"""

from palpate.core.measures.catalogue import instrument, instruments, progression_policy
from palpate.core.measures.change import change, progression_signals, responder_status
from palpate.core.measures.model import (
    AnswerOption,
    Band,
    Better,
    ChangeResult,
    Direction,
    Instrument,
    Item,
    ProgressionSignals,
    Responder,
    ResponderStatus,
    RomNorm,
    RomReference,
    Scale,
    ScaleScore,
    ScoreResult,
    Status,
    Threshold,
)
from palpate.core.measures.requests import change_request, score_request
from palpate.core.measures.rom import (
    check_rom,
    percent_of_normal,
    rom_limit,
    rom_norm,
    rom_reference,
    rom_references,
)
from palpate.core.measures.scoring import score
from palpate.core.measures.wording import load_licensed_wording

__all__ = [
    "AnswerOption",
    "Band",
    "Better",
    "ChangeResult",
    "Direction",
    "Instrument",
    "Item",
    "ProgressionSignals",
    "Responder",
    "ResponderStatus",
    "RomNorm",
    "RomReference",
    "Scale",
    "ScaleScore",
    "ScoreResult",
    "Status",
    "Threshold",
    "change",
    "change_request",
    "check_rom",
    "instrument",
    "instruments",
    "load_licensed_wording",
    "percent_of_normal",
    "progression_policy",
    "progression_signals",
    "responder_status",
    "rom_limit",
    "rom_norm",
    "rom_reference",
    "rom_references",
    "score",
    "score_request",
]
