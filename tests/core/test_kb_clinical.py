"""The clinical knowledge base: it loads, covers the vocabulary, cites every rule, and a broken
file fails with a message that names the file, the key and the problem."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from palpate.core.errors import KnowledgeBaseError
from palpate.core.kb import KB_VERSION
from palpate.core.kb.clinical import FILES, VOCABULARY, build_kb, knowledge_base
from palpate.core.kb.loader import load_yaml, parse_yaml
from palpate.core.planning import exercise_library, finding_catalogue
from palpate.core.policy import default_policy, policy_settings


def documents() -> dict[str, Any]:
    return {name: copy.deepcopy(load_yaml(name)) for name in FILES}


def failure(docs: dict[str, Any]) -> KnowledgeBaseError:
    with pytest.raises(KnowledgeBaseError) as caught:
        build_kb(docs)
    return caught.value


def test_it_loads_once_and_reports_its_version() -> None:
    assert knowledge_base() is knowledge_base()
    assert knowledge_base().version == KB_VERSION == "2026.2"


def test_every_vocabulary_code_is_in_the_knowledge_base() -> None:
    kb = knowledge_base()
    assert set(VOCABULARY["regions"]) <= set(kb.regions.regions)
    assert set(VOCABULARY["groups"]) <= set(kb.regions.groups)
    assert set(VOCABULARY["techniques"]) == set(kb.techniques)
    assert set(VOCABULARY["conditions"]) <= set(kb.conditions)
    assert set(VOCABULARY["whole_body_findings"]) | set(VOCABULARY["local_findings"]) <= set(kb.rules)
    assert set(VOCABULARY["therapies"]) <= set(kb.therapies)
    assert set(VOCABULARY["wells_items"]) == set(kb.wells.items)


def test_every_rule_names_a_source_or_policy_and_an_evidence_grade() -> None:
    kb = knowledge_base()
    for rule in kb.rules.values():
        assert rule.sources and rule.evidence in ("A", "B", "C", "A/B", "policy"), rule.code
    for flag in kb.red_flags:
        assert flag.sources and flag.evidence, flag.code
    for technique in kb.techniques.values():
        assert technique.sources and technique.evidence
    for therapy in kb.therapies.values():
        assert therapy.sources and therapy.evidence
    for condition in kb.conditions.values():
        assert condition.sources
    assert kb.cite(("policy",)) == ("policy",)
    assert kb.cite(("mayo",)) == ("Mayo Clinic massage cautions [C]",)


def test_local_and_whole_body_findings_keep_the_vocabulary_scope() -> None:
    kb = knowledge_base()
    assert {kb.rules[c].scope for c in VOCABULARY["local_findings"]} == {"local"}
    assert {kb.rules[c].scope for c in VOCABULARY["whole_body_findings"]} == {"whole_body"}


def test_regions_carry_laterality_groups_and_snomed_codes_only_where_found() -> None:
    regions = knowledge_base().regions
    assert regions.regions["forearm"].paired and regions.regions["forearm"].limb == "upper_limb"
    assert not regions.regions["upper_back"].paired
    assert set(regions.regions["upper_back"].groups) == {"spine", "trunk"}
    assert regions.regions["head"].groups == ()
    assert regions.regions["forearm"].snomed == "14975008"
    # No code where the sources disagree or none fits exactly.
    assert regions.regions["abdomen"].snomed is None and regions.regions["upper_back"].snomed is None


def test_the_related_muscles_of_tendon_regions_follow_the_policy() -> None:
    regions = knowledge_base().regions.regions
    assert regions["elbow"].muscles == ("forearm",)
    assert regions["shoulder"].muscles == ("upper_back", "upper_arm")
    assert regions["knee"].muscles == ("thigh",)
    assert regions["ankle"].muscles == ("calf",)
    assert regions["wrist"].muscles == ("forearm",)


def test_the_exercise_library_has_at_least_thirty_plain_exercises() -> None:
    library = exercise_library()
    assert len(library) >= 30
    for exercise in library:
        assert exercise.regions and exercise.phases and exercise.dose and len(exercise.instructions) > 40
    assert len({e.code for e in library}) == len(library)


def test_the_finding_catalogue_tells_the_checklist_which_findings_need_a_region() -> None:
    catalogue = {f.code: f for f in finding_catalogue()}
    assert catalogue["open_wound"].scope == "local" and catalogue["fever"].scope == "whole_body"
    assert catalogue["fever"].hold and not catalogue["open_wound"].hold
    assert catalogue["cannot_give_feedback"].status == "UNVERIFIED"
    assert catalogue["cannot_give_feedback"].sources == ("policy",)


def test_policy_settings_show_defaults_units_sources_and_unverified_labels() -> None:
    settings = {s.key: s for s in policy_settings()}
    assert settings["fever_c"].default == 38.0 and settings["fever_c"].unit == "°C"
    assert settings["fever_c"].unverified
    assert settings["bp_systolic"].default == 180 and settings["bp_diastolic"].default == 110
    assert settings["bp_systolic"].sources == ("policy",)
    assert (settings["session_minutes_min"].default, settings["session_minutes_max"].default) == (15, 30)
    assert not settings["nprs_high_min"].unverified
    assert settings["fever_c"].to_json()["unverified"] is True
    assert default_policy().fever_c == 38.0


@pytest.mark.parametrize(("file", "mutate", "key", "problem"), [
    ("contraindications.yaml", lambda d: d["rules"]["open_wound"].pop("sources"),
     "rules.open_wound.sources", "required key is missing"),
    ("contraindications.yaml", lambda d: d["rules"]["open_wound"]["effects"][0].update(max_pressure="gentle"),
     "rules.open_wound.effects[0].max_pressure", "not one of"),
    ("contraindications.yaml", lambda d: d["rules"]["open_wound"]["effects"][0].update(techniques=["kneading"]),
     "rules.open_wound.effects[0].techniques[0]", "unknown code 'kneading'"),
    ("contraindications.yaml", lambda d: d["rules"]["varicose_veins"].update(max_presure="light"),
     "rules.varicose_veins.max_presure", "unknown key"),
    ("contraindications.yaml", lambda d: d["rules"].pop("burn"),
     "rules", "vocabulary codes missing: burn"),
    ("contraindications.yaml", lambda d: d["rules"]["fever"].update(sources=["who_knows"]),
     "rules.fever.sources[0]", "unknown code 'who_knows'"),
    ("contraindications.yaml", lambda d: d["rules"]["fever"].update(hold="yes"),
     "rules.fever.hold", "expected bool"),
    ("regions.yaml", lambda d: d["regions"]["knee"].update(neighbours=["thigh"]),
     "regions.calf.neighbours", "knee does not list calf back"),
    ("techniques.yaml", lambda d: d["techniques"]["friction"]["minutes"].update(min=12),
     "techniques.friction.minutes", "min <= default <= max"),
    ("policy.yaml", lambda d: d["settings"]["fever_c"].update(default=42.0),
     "settings.fever_c", "outside its own range"),
    ("conditions.yaml", lambda d: d["conditions"]["tendinopathy"]["phases"]["inflammatory"]["items"][0]
     .update(pressure="deep"), "conditions.tendinopathy.phases.inflammatory.items[0].pressure", "above the"),
    ("screens.yaml", lambda d: d["wells"]["versions"]["2003"]["categories"][0].update(min=None),
     "wells.versions.2003.categories", "last band"),
    ("screens.yaml", lambda d: d["red_flags"]["major_trauma"].update(none_of=["fever"]),
     "red_flags.major_trauma.none_of[0]", "may only name conditions"),
    ("exercises.yaml", lambda d: d["exercises"]["pendulum"].update(regions=["shoulders"]),
     "exercises.pendulum.regions[0]", "unknown code 'shoulders'"),
    ("complementary.yaml", lambda d: d["therapies"]["cold"]["when"].update(phases=["acute"]),
     "therapies.cold.when.phases[0]", "unknown code 'acute'"),
    ("sources.yaml", lambda d: d["sources"]["mayo"].update(grade="D"),
     "sources.mayo.grade", "not one of"),
    # Policy version 2 data: restrictions on exercise and therapies, where conditions occur, bounds.
    ("contraindications.yaml", lambda d: d["rules"]["burn"]["effects"][0].update(techniques=[], therapies=[]),
     "rules.burn.effects[0]", "name at least one"),
    ("contraindications.yaml", lambda d: d["rules"]["tumour"]["effects"][0].update(therapies=["massage"]),
     "rules.tumour.effects[0].therapies[0]", "unknown code 'massage'"),
    ("contraindications.yaml", lambda d: d["lower_limb_dvt_window"]["effects"][0].update(spread="site"),
     "lower_limb_dvt_window.effects", "spread 'limb'"),
    ("contraindications.yaml", lambda d: d["lower_limb_dvt_window"].update(after=["open_wound", "fever"]),
     "lower_limb_dvt_window.after[1]", "unknown code 'fever'"),
    ("regions.yaml", lambda d: d["regions"]["wrist"].pop("from_trunk"),
     "regions.wrist.from_trunk", "required key is missing"),
    ("regions.yaml", lambda d: d["regions"]["neck"].update(from_trunk=0),
     "regions.neck.from_trunk", "only limb regions"),
    ("conditions.yaml", lambda d: d["conditions"]["bursitis"].update(regions=["elbow", "elbows"]),
     "conditions.bursitis.regions[1]", "unknown code 'elbows'"),
    ("conditions.yaml", lambda d: d["conditions"]["neck_pain"].update(regions=["upper_back"]),
     "conditions.neck_pain.default_region", "one of the condition's regions"),
    ("conditions.yaml", lambda d: d["conditions"]["neck_pain"]["icd10_family"][0].update(prefix="cervicalgia"),
     "conditions.neck_pain.icd10_family[0].prefix", "not the start of an ICD-10-CM code"),
    ("conditions.yaml", lambda d: d["acute_injury"].update(conditions=["muscle_strain", "sprain"]),
     "acute_injury.conditions[1]", "unknown code 'sprain'"),
    ("exercises.yaml", lambda d: d["exercises"]["heel_raise"].update(loads=["calf"]),
     "exercises.heel_raise.loads[0]", "already one of the exercise's regions"),
    ("policy.yaml", lambda d: d["settings"]["fever_c"].pop("bound_sources"),
     "settings.fever_c.bound_sources", "required key is missing"),
    ("screens.yaml", lambda d: d["red_flags"]["major_trauma"].update(suspected_fracture_at="everywhere"),
     "red_flags.major_trauma.suspected_fracture_at", "not one of"),
    ("screens.yaml", lambda d: d["red_flags"]["cancer_history_with_spinal_pain"].update(all_of=["pain_at:spleen"]),
     "red_flags.cancer_history_with_spinal_pain.all_of[0]", "unknown region"),
])
def test_a_broken_file_fails_naming_the_file_the_key_and_the_problem(file: str, mutate: Any, key: str,
                                                                     problem: str) -> None:
    docs = documents()
    mutate(docs[file])
    error = failure(docs)
    assert (error.file, error.key) == (file, key)
    assert problem in error.problem
    assert str(error).startswith(f"{file}: {key}: ")


def test_a_file_from_another_knowledge_base_version_is_refused() -> None:
    docs = documents()
    docs["screens.yaml"]["kb_version"] = "2025.9"
    error = failure(docs)
    assert (error.file, error.key) == ("screens.yaml", "kb_version") and "2026.2" in error.problem


def test_a_missing_file_is_named() -> None:
    docs = documents()
    del docs["exercises.yaml"]
    assert failure(docs).file == "exercises.yaml"


def test_a_library_of_fewer_than_thirty_exercises_is_refused() -> None:
    docs = documents()
    docs["exercises.yaml"]["exercises"] = dict(list(docs["exercises.yaml"]["exercises"].items())[:10])
    assert "at least 30" in failure(docs).problem


def test_invalid_yaml_names_the_file() -> None:
    with pytest.raises(KnowledgeBaseError) as caught:
        parse_yaml("rules: [unclosed", "contraindications.yaml")
    assert caught.value.file == "contraindications.yaml"


def test_the_packaged_documents_build_an_equal_knowledge_base() -> None:
    rebuilt = build_kb(documents())
    assert rebuilt.rules == knowledge_base().rules
    assert rebuilt.exercises == knowledge_base().exercises


def test_the_safe_bounds_of_planning_policy_1_7_are_knowledge_base_data() -> None:
    settings = {s.key: s for s in policy_settings()}
    assert (settings["fever_c"].min, settings["fever_c"].max) == (37.5, 38.5)
    assert (settings["bp_systolic"].min, settings["bp_systolic"].max) == (160, 180)
    assert (settings["bp_diastolic"].min, settings["bp_diastolic"].max) == (100, 110)
    assert settings["proliferative_max_days"].min == 21 and settings["incision_healed_days"].min == 14
    for setting in settings.values():
        assert setting.bound_sources and setting.bound_note, setting.key
        assert setting.min <= setting.default <= setting.max
