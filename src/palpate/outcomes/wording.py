"""A clinic's licensed questionnaire wording: reading it back for the forms, storing it canonically.

The core validates wording files (``load_licensed_wording``); here the validated copy is turned
into one canonical JSON shape for the database, and the stored shape back into an instrument for
the forms. Stored wording is validated again on every use, so a knowledge-base change that no
longer matches a clinic's file shows the topic labels (and says so) instead of wrong questions.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from palpate.core import measures
from palpate.core.errors import InputError
from palpate.core.measures import Instrument, Scale
from palpate.outcomes.models import LicensedWording


@dataclass(frozen=True)
class ClinicInstrument:
    instrument: Instrument
    wording_loaded: bool
    # Set when the clinic's stored wording no longer fits the instrument.
    problem: str = ""


def clinic_instrument(clinic_id: int, code: str) -> ClinicInstrument:
    """The instrument as the clinic's forms show it: with its licensed wording when loaded."""
    plain = measures.instrument(code)
    stored = LicensedWording.objects.filter(clinic_id=clinic_id, instrument=code).values_list("wording", flat=True).first()
    if stored is None:
        return ClinicInstrument(plain, False)
    try:
        return ClinicInstrument(measures.load_licensed_wording(code, stored), True)
    except InputError as exc:
        return ClinicInstrument(plain, False, f"The clinic's licensed wording for {plain.abbreviation} no longer "
                                f"matches this questionnaire ({exc.message}); an owner should load it again.")


def can_take_wording(inst: Instrument) -> bool:
    """PSFS activities are named by the patient: there is no item wording to license."""
    return all(scale.min_items == scale.max_items for scale in inst.scales)


def canonical(inst: Instrument) -> dict[str, Any]:
    """The validated wording as JSON: ``{"instrument": code, "items": {...}}`` (nested per scale for BCTQ)."""
    def scale_items(scale: Scale) -> dict[str, Any]:
        items: dict[str, Any] = {}
        for item in scale.items:
            if item.option_wording:
                items[str(item.number)] = {"text": item.wording,
                                           "options": {str(o.value): o.label for o in item.option_wording}}
            else:
                items[str(item.number)] = item.wording
        return items

    if inst.is_multiscale:
        return {"instrument": inst.code, "items": {scale.code: scale_items(scale) for scale in inst.scales}}
    return {"instrument": inst.code, "items": scale_items(inst.scales[0])}


def digest(wording: dict[str, Any]) -> str:
    """A fingerprint for the audit trail, which records that wording changed, not the licensed text."""
    return hashlib.sha256(json.dumps(wording, sort_keys=True).encode()).hexdigest()
