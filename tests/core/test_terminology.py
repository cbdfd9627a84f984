"""The standard codes the FHIR export uses: sourced, with a status, and only verified ones handed out."""

from __future__ import annotations

from palpate.core import measures
from palpate.core.terminology import terminology


def test_it_loads_every_vital_sign_with_a_verified_loinc_code_and_a_ucum_unit():
    vitals = terminology().vitals
    assert {key: (v.loinc.code, v.unit_code) for key, v in vitals.items()} == {
        "temperature_c": ("8310-5", "Cel"), "blood_pressure": ("85354-9", "mm[Hg]"),
        "bp_systolic": ("8480-6", "mm[Hg]"), "bp_diastolic": ("8462-4", "mm[Hg]")}
    assert all(v.loinc.exportable and v.loinc.source in terminology().sources for v in vitals.values())


def test_it_has_no_loinc_code_for_range_of_motion_and_says_why():
    rom = terminology().range_of_motion
    assert rom.loinc.code is None and rom.loinc.status == "not_found" and not rom.loinc.exportable
    assert "deprecated" in terminology().sources[rom.loinc.source].lower()


def test_it_has_snomed_laterality_for_both_sides():
    laterality = terminology().laterality
    assert (laterality["left"].code, laterality["right"].code) == ("7771000", "24028007")
    assert laterality["left"].system == "http://snomed.info/sct"


def test_it_exports_an_instruments_loinc_code_only_when_the_knowledge_base_verified_it():
    # The rule the FHIR export applies (palpate.interop.fhir.resources.observations.loinc): NPRS is
    # verified; ODI's and NDI's codes are seen only in sample data and stay out.
    statuses = {inst.code: (inst.loinc.status if inst.loinc else None) for inst in measures.instruments()}
    assert statuses["nprs"] == "verified"
    assert statuses["odi"] == "unverified" and statuses["ndi"] == "unverified"
