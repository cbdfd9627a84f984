"""The clinical knowledge base: load, validate and index the rule files once.

Files (all under ``palpate/core/kb/``, each stamped with ``kb_version``):

- ``sources.yaml``          bibliography; every rule cites its ids or the word ``policy``
- ``regions.yaml``          regions, groups, laterality, SNOMED CT codes, neighbours, related muscles
- ``techniques.yaml``       the five techniques, pressure grades and default doses
- ``policy.yaml``           clinic-adjustable thresholds and input plausibility limits
- ``conditions.yaml``       healing phases and per-condition, per-phase session templates
- ``contraindications.yaml``  every contraindication and precaution of facts.md §A.1, and the
                            lower-limb DVT risk window after surgery or a fracture
- ``screens.yaml``          Wells 1997/2003 (and its leg signs), Ottawa ankle and foot, red flags
- ``complementary.yaml``    the plan of care around the massage
- ``exercises.yaml``        the home-exercise library

``knowledge_base()`` loads and validates them once per process (cached). ``build_kb`` takes the
parsed documents so tests can feed it a broken file and check the error names file, key and problem.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from palpate.core.errors import KnowledgeBaseError
from palpate.core.kb import KB_VERSION
from palpate.core.kb.loader import load_yaml
from palpate.core.kb.schema import Doc

FILES = (
    "sources.yaml", "regions.yaml", "techniques.yaml", "policy.yaml", "conditions.yaml",
    "contraindications.yaml", "screens.yaml", "complementary.yaml", "exercises.yaml",
)

# Fixed orders. Pressure "none" only appears in restrictions (max_pressure).
PRESSURES = ("light", "moderate", "deep")
CAPS = ("none", "light", "moderate")
RANK = MappingProxyType({"none": 0, "light": 1, "moderate": 2, "deep": 3})
PHASES = ("inflammatory", "proliferative", "remodelling")
IRRITABILITIES = ("high", "moderate", "low")
SEVERITIES = ("absolute", "relative", "referral")
URGENCIES = ("emergency", "same_day", "routine")
GRADES = ("A", "B", "C", "A/B", "policy")
STATUSES = ("VERIFIED", "PARTIAL", "DERIVED", "UNVERIFIED")
SIDES = ("left", "right")
WHOLE_BODY = "whole_body"
POLICY = "policy"
ALL = "all"
SPREADS = ("site", "segment", "limb", "proximal", "toward_trunk", "whole_body", "regions")
# ICD-10-CM: a letter, two characters, then optionally a dot and up to four more (M54.50, S39.012A).
ICD10_PATTERN = re.compile(r"^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$")

# shared/contract/vocabulary.md: the knowledge base may add codes but must not drop these.
VOCABULARY: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "regions": ("neck", "upper_back", "lower_back", "pelvis", "chest", "abdomen", "head", "shoulder",
                "upper_arm", "elbow", "forearm", "wrist", "hand", "hip", "gluteal", "thigh", "knee",
                "calf", "ankle", "foot"),
    "groups": ("spine", "trunk", "upper_limb", "lower_limb"),
    "techniques": ("effleurage", "petrissage", "friction", "myofascial_release", "trigger_point"),
    "conditions": ("muscle_strain", "ligament_sprain", "post_operative", "low_back_pain", "neck_pain",
                   "tendinopathy", "bursitis", "carpal_tunnel_syndrome", "myofascial_pain_syndrome",
                   "muscle_tightness", "joint_stiffness"),
    "whole_body_findings": ("fever", "systemic_infection", "uncontrolled_hypertension",
                            "anticoagulant_therapy", "bleeding_disorder", "thrombocytopenia",
                            "active_cancer", "cannot_give_feedback", "severe_osteoporosis", "pregnancy",
                            "saddle_anaesthesia", "bladder_dysfunction", "bowel_dysfunction",
                            "progressive_neurological_deficit", "history_of_cancer",
                            "unexplained_weight_loss", "night_pain", "recent_major_trauma",
                            "recent_minor_trauma"),
    "local_findings": ("dvt", "open_wound", "local_infection", "recent_fracture", "surgical_incision",
                       "acute_inflammation", "burn", "skin_lesion", "varicose_veins", "sensory_loss",
                       "lymphoedema", "tumour", "new_pain"),
    "wells_items": ("active_cancer", "paralysis_paresis_or_plaster", "bedridden_or_major_surgery",
                    "localised_deep_vein_tenderness", "entire_leg_swollen", "calf_swelling_3cm",
                    "pitting_oedema", "collateral_superficial_veins", "previous_dvt",
                    "alternative_diagnosis_as_likely"),
    "therapies": ("therapeutic_exercise", "joint_mobilisation", "neuromuscular_reeducation",
                  "postural_training", "electrical_stimulation", "heat", "cold"),
})


# ---------------------------------------------------------------------------------------------
# Data classes


@dataclass(frozen=True, slots=True)
class Source:
    id: str
    cite: str
    grade: str
    status: str
    url: str | None

    @property
    def label(self) -> str:
        return f"{self.cite} [{self.grade}]"


@dataclass(frozen=True, slots=True)
class Region:
    code: str
    label: str
    paired: bool
    snomed: str | None
    groups: tuple[str, ...]
    limb: str | None
    neighbours: tuple[str, ...]
    proximal: str | None
    muscles: tuple[str, ...]
    from_trunk: int | None  # a limb region's place along its limb, 0 at the trunk
    only_own_conditions: bool  # never planned for a condition at another region (the head)


@dataclass(frozen=True, slots=True)
class RegionGroup:
    code: str
    label: str
    paired: bool
    regions: tuple[str, ...]
    snomed: str | None


@dataclass(frozen=True, slots=True)
class RegionIndex:
    regions: Mapping[str, Region]
    groups: Mapping[str, RegionGroup]
    whole_body_label: str
    whole_body_snomed: str | None
    snomed_source: str
    order: Mapping[str, int]  # display order of regions, groups and whole_body

    def members(self, target: str) -> tuple[str, ...]:
        """The regions a region, group or ``whole_body`` stands for."""
        if target == WHOLE_BODY:
            return tuple(self.regions)
        if target in self.groups:
            return self.groups[target].regions
        return (target,)

    def is_paired(self, target: str) -> bool:
        if target in self.groups:
            return self.groups[target].paired
        region = self.regions.get(target)
        return region.paired if region else False


@dataclass(frozen=True, slots=True)
class Technique:
    code: str
    label: str
    description: str
    cpt: str
    keep: int
    needs_feedback: bool
    withheld_after_severe_soreness: bool
    minutes_default: int
    minutes_min: int
    minutes_max: int
    points: int | None
    seconds_per_point: Mapping[str, int] | None
    sources: tuple[str, ...]
    evidence: str
    status: str


@dataclass(frozen=True, slots=True)
class Effect:
    spread: str  # one of SPREADS
    techniques: tuple[str, ...]
    max_pressure: str
    severity: str | None
    regions: tuple[str, ...]
    exercise: bool  # no home exercise moves or loads a covered region
    therapies: tuple[str, ...]  # complementary therapies not applied at a covered region


@dataclass(frozen=True, slots=True)
class ReferralSpec:
    reason: str
    urgency: str
    detail: str


@dataclass(frozen=True, slots=True)
class Rule:
    code: str
    label: str
    scope: str  # local | whole_body
    severity: str
    resolves: bool  # takes "cleared": true (vocabulary.md)
    hold: bool
    applies_when: str | None
    effects: tuple[Effect, ...]
    referral: ReferralSpec | None
    implies: tuple[str, ...]
    positioning: str | None
    modification: str
    sources: tuple[str, ...]
    evidence: str
    status: str


@dataclass(frozen=True, slots=True)
class WellsBand:
    category: str
    min: int | None
    blocks: bool


@dataclass(frozen=True, slots=True)
class WellsVersion:
    version: str
    sources: tuple[str, ...]
    bands: tuple[WellsBand, ...]


@dataclass(frozen=True, slots=True)
class WellsSpec:
    items: Mapping[str, Mapping[str, int]]  # item -> version -> points
    labels: Mapping[str, str]
    versions: Mapping[str, WellsVersion]
    block_hold: bool
    block_effects: tuple[Effect, ...]
    block_referral: ReferralSpec
    leg_risk_items: tuple[str, ...]
    leg_symptom_items: tuple[str, ...]
    leg_effects: tuple[Effect, ...]
    leg_referral: ReferralSpec
    leg_sources: tuple[str, ...]
    sign_items: tuple[str, ...]
    sign_effects: tuple[Effect, ...]
    sign_referral: ReferralSpec
    sign_sources: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DvtWindow:
    """Planning policy §1.2: after surgery or a fracture on a leg, a DVT risk period (Wells)."""

    days: int
    limb: str
    after: tuple[str, ...]
    effects: tuple[Effect, ...]
    sources: tuple[str, ...]
    evidence: str
    status: str


@dataclass(frozen=True, slots=True)
class OttawaSpec:
    code: str
    label: str
    zone: str
    criteria: tuple[str, ...]
    suspected_fracture_at: tuple[str, ...]
    referral: ReferralSpec
    sources: tuple[str, ...]
    evidence: str
    status: str


@dataclass(frozen=True, slots=True)
class RedFlag:
    code: str
    label: str
    category: str
    all_of: tuple[str, ...]
    any_of: tuple[str, ...]
    none_of: tuple[str, ...]
    hold: bool
    effects: tuple[Effect, ...]
    suspected_fracture_at: str | None  # pain | new_pain
    referral: ReferralSpec | None
    sources: tuple[str, ...]
    evidence: str
    status: str


@dataclass(frozen=True, slots=True)
class PhaseSpec:
    code: str
    label: str
    irritability: str
    ceiling: str
    sources: tuple[str, ...]
    evidence: str


@dataclass(frozen=True, slots=True)
class TemplateItem:
    technique: str
    target: str  # site | related | surrounding | proximal
    pressure: str
    ceiling: str | None
    requires: str | None
    why: str


@dataclass(frozen=True, slots=True)
class Guard:
    at: str | None  # a region code on the condition's side; None = the condition's own site
    techniques: tuple[str, ...]
    max_pressure: str


@dataclass(frozen=True, slots=True)
class Icd10:
    code: str
    label: str
    status: str
    source: str


@dataclass(frozen=True, slots=True)
class Icd10Prefix:
    """A family of ICD-10-CM codes: every code starting with ``prefix`` (``S46`` or ``M54.5``)."""

    prefix: str
    label: str
    status: str
    source: str


@dataclass(frozen=True, slots=True)
class ConditionSpec:
    code: str
    label: str
    default_region: str | None
    regions: tuple[str, ...]  # where it can occur (planning policy §2)
    icd10: tuple[Icd10, ...]
    icd10_family: tuple[Icd10Prefix, ...]
    sources: tuple[str, ...]
    evidence: str
    phases: Mapping[str, tuple[TemplateItem, ...]]
    guards: tuple[Guard, ...]


@dataclass(frozen=True, slots=True)
class Therapy:
    code: str
    label: str
    cpt: str | None
    why: str
    phases: tuple[str, ...] | None
    conditions: tuple[str, ...] | None
    pain_at_least: str | None
    sources: tuple[str, ...]
    evidence: str


@dataclass(frozen=True, slots=True)
class Exercise:
    code: str
    name: str
    regions: tuple[str, ...]  # what it is for, the main one first
    loads: tuple[str, ...]  # further regions it moves or loads
    phases: tuple[str, ...]
    conditions: tuple[str, ...] | None
    avoid_with: tuple[str, ...]
    dose: str
    instructions: str


@dataclass(frozen=True, slots=True)
class PolicySettingSpec:
    key: str
    label: str
    type: str  # int | float
    default: float
    unit: str
    min: float
    max: float
    sources: tuple[str, ...]
    status: str
    bound_sources: tuple[str, ...]  # where min and max, the safe bounds, come from
    bound_note: str  # which way is stricter


@dataclass(frozen=True, slots=True)
class ClinicalKB:
    version: str
    sources: Mapping[str, Source]
    regions: RegionIndex
    pressures: Mapping[str, str]
    techniques: Mapping[str, Technique]
    policy_settings: Mapping[str, PolicySettingSpec]
    input_limits: Mapping[str, tuple[float, float]]
    phases: Mapping[str, PhaseSpec]
    inflammatory_site_guard: tuple[Guard, ...]
    acute_injuries: tuple[str, ...]
    acute_injury_sources: tuple[str, ...]
    conditions: Mapping[str, ConditionSpec]
    rules: Mapping[str, Rule]
    dvt_window: DvtWindow
    wells: WellsSpec
    ottawa: Mapping[str, OttawaSpec]
    red_flags: tuple[RedFlag, ...]
    therapies: Mapping[str, Therapy]
    exercises: tuple[Exercise, ...]
    exercise_sources: tuple[str, ...]
    handout_advice: str

    @property
    def exercise_index(self) -> Mapping[str, Exercise]:
        return _exercise_index(self)

    def cite(self, source_ids: tuple[str, ...]) -> tuple[str, ...]:
        """Short citation strings ("Mayo Clinic massage cautions [C]", or "policy")."""
        return tuple(POLICY if s == POLICY else self.sources[s].label for s in source_ids)


# ---------------------------------------------------------------------------------------------
# Loading


@lru_cache(maxsize=1)
def knowledge_base() -> ClinicalKB:
    """The packaged knowledge base, loaded and validated once per process."""
    return build_kb({name: load_yaml(name) for name in FILES})


def build_kb(documents: Mapping[str, Any]) -> ClinicalKB:
    """Validate and index parsed documents (filename -> YAML data)."""
    for name in FILES:
        if name not in documents:
            raise KnowledgeBaseError(name, "-", "file is missing from the knowledge base")
        doc = Doc(name)
        root = doc.mapping(documents[name], "")
        version = doc.text(root, "kb_version", "")
        if version != KB_VERSION:
            doc.fail("kb_version", f"is {version!r}, but the code expects {KB_VERSION!r}")
    sources = _sources(documents["sources.yaml"])
    source_ids = frozenset(sources) | {POLICY}
    regions = _regions(documents["regions.yaml"], source_ids)
    pressures, techniques = _techniques(documents["techniques.yaml"], source_ids)
    settings, limits = _policy(documents["policy.yaml"], source_ids)
    phases, site_guard, acute, conditions = _conditions(documents["conditions.yaml"], regions, techniques,
                                                        source_ids)
    therapies = _therapies(documents["complementary.yaml"], conditions, settings, source_ids)
    vocab = _Vocab(regions, techniques, tuple(therapies))
    rules, dvt_window = _rules(documents["contraindications.yaml"], vocab, source_ids)
    wells, ottawa, red_flags = _screens(documents["screens.yaml"], vocab, rules, conditions, settings, source_ids)
    exercises, exercise_sources, advice = _exercises(documents["exercises.yaml"], regions, rules,
                                                     conditions, source_ids)
    return ClinicalKB(
        version=KB_VERSION, sources=MappingProxyType(sources), regions=regions,
        pressures=MappingProxyType(pressures), techniques=MappingProxyType(techniques),
        policy_settings=MappingProxyType(settings), input_limits=MappingProxyType(limits),
        phases=MappingProxyType(phases), inflammatory_site_guard=site_guard, acute_injuries=acute[0],
        acute_injury_sources=acute[1],
        conditions=MappingProxyType(conditions), rules=MappingProxyType(rules), dvt_window=dvt_window, wells=wells,
        ottawa=MappingProxyType(ottawa), red_flags=red_flags, therapies=MappingProxyType(therapies),
        exercises=exercises, exercise_sources=exercise_sources, handout_advice=advice,
    )


def _vocabulary(doc: Doc, have: Mapping[str, Any] | tuple[str, ...], kind: str, where: str) -> None:
    missing = [code for code in VOCABULARY[kind] if code not in have]
    if missing:
        doc.fail(where, f"vocabulary codes missing: {', '.join(missing)} (vocabulary.md may not be shrunk)")


def _cited(doc: Doc, node: Any, where: str, source_ids: frozenset[str], key: str = "sources") -> tuple[str, ...]:
    cited = doc.codes(node, key, where, source_ids)
    if not cited:
        doc.fail(Doc.path(where, key), "every rule needs a source or the word 'policy'")
    return cited


def _sources(data: Any) -> dict[str, Source]:
    doc = Doc("sources.yaml")
    root = doc.mapping(data, "")
    doc.known(root, {"kb_version", "sources"}, "")
    out: dict[str, Source] = {}
    for sid, node in doc.map_of(root, "sources", "").items():
        where = f"sources.{sid}"
        if sid == POLICY:
            doc.fail(where, "'policy' is reserved for rules without a source")
        node = doc.mapping(node, where)
        doc.known(node, {"cite", "grade", "status", "url"}, where)
        out[sid] = Source(sid, doc.text(node, "cite", where), doc.choice(node, "grade", GRADES, where),
                          doc.choice(node, "status", STATUSES, where), doc.opt_text(node, "url", where))
    return out


def _regions(data: Any, source_ids: frozenset[str]) -> RegionIndex:
    doc = Doc("regions.yaml")
    root = doc.mapping(data, "")
    doc.known(root, {"kb_version", "snomed_source", "whole_body", "groups", "regions"}, "")
    snomed_source = doc.choice(root, "snomed_source", source_ids, "")
    whole = doc.map_of(root, "whole_body", "")
    raw_regions = doc.map_of(root, "regions", "")
    raw_groups = doc.map_of(root, "groups", "")
    _vocabulary(doc, raw_regions, "regions", "regions")
    _vocabulary(doc, raw_groups, "groups", "groups")
    names = set(raw_regions)
    for name in raw_groups:
        if name in names or name == WHOLE_BODY:
            doc.fail(f"groups.{name}", "a group may not share a name with a region or whole_body")
    groups: dict[str, RegionGroup] = {}
    member_of: dict[str, list[str]] = {name: [] for name in raw_regions}
    for name, node in raw_groups.items():
        where = f"groups.{name}"
        node = doc.mapping(node, where)
        doc.known(node, {"label", "paired", "regions", "snomed"}, where)
        paired = doc.boolean(node, "paired", where)
        members = doc.codes(node, "regions", where, names)
        for member in members:
            if bool(doc.boolean(raw_regions[member], "paired", f"regions.{member}")) != paired:
                doc.fail(f"{where}.regions", f"{member} and the group {name} disagree about laterality")
            member_of[member].append(name)
        groups[name] = RegionGroup(name, doc.text(node, "label", where), paired, members,
                                   doc.opt_text(node, "snomed", where))
    regions: dict[str, Region] = {}
    for name, node in raw_regions.items():
        where = f"regions.{name}"
        node = doc.mapping(node, where)
        doc.known(node, {"label", "paired", "snomed", "neighbours", "proximal", "muscles", "from_trunk",
                         "only_own_conditions"}, where)
        paired = doc.boolean(node, "paired", where)
        neighbours = doc.codes(node, "neighbours", where, names)
        proximal = doc.opt_text(node, "proximal", where)
        if proximal is not None and proximal not in names:
            doc.fail(f"{where}.proximal", f"unknown region {proximal!r}")
        muscles = doc.codes(node, "muscles", where, names, required=False)
        limb = next((g for g in member_of[name] if groups[g].paired), None)
        if paired and limb is None:
            doc.fail(where, "a paired region must belong to a limb group")
        from_trunk: int | None = None
        if limb is not None:
            from_trunk = doc.integer(node, "from_trunk", where)
            if from_trunk < 0:
                doc.fail(f"{where}.from_trunk", "must be 0 (at the trunk) or more")
        elif "from_trunk" in node:
            doc.fail(f"{where}.from_trunk", "only limb regions have a place along a limb")
        regions[name] = Region(name, doc.text(node, "label", where), paired,
                               doc.opt_text(node, "snomed", where), tuple(member_of[name]), limb,
                               neighbours, proximal, muscles, from_trunk,
                               doc.boolean(node, "only_own_conditions", where))
    for name, region in regions.items():
        for other in region.neighbours:
            if name not in regions[other].neighbours:
                doc.fail(f"regions.{name}.neighbours", f"{other} does not list {name} back")
    order = {name: i for i, name in enumerate([WHOLE_BODY, *groups, *regions])}
    return RegionIndex(MappingProxyType(regions), MappingProxyType(groups),
                       doc.text(whole, "label", "whole_body"), doc.opt_text(whole, "snomed", "whole_body"),
                       snomed_source, MappingProxyType(order))


def _techniques(data: Any, source_ids: frozenset[str]) -> tuple[dict[str, str], dict[str, Technique]]:
    doc = Doc("techniques.yaml")
    root = doc.mapping(data, "")
    doc.known(root, {"kb_version", "pressures", "techniques"}, "")
    pressures_node = doc.map_of(root, "pressures", "")
    pressures = {p: doc.text(pressures_node, p, "pressures") for p in PRESSURES}
    doc.known(pressures_node, PRESSURES, "pressures")
    raw = doc.map_of(root, "techniques", "")
    _vocabulary(doc, raw, "techniques", "techniques")
    out: dict[str, Technique] = {}
    for code, node in raw.items():
        where = f"techniques.{code}"
        node = doc.mapping(node, where)
        doc.known(node, {"label", "description", "cpt", "keep", "needs_feedback", "withheld_after_severe_soreness",
                         "minutes", "points", "seconds_per_point", "sources", "evidence", "status"}, where)
        minutes = doc.map_of(node, "minutes", where)
        low, default, high = (doc.integer(minutes, k, f"{where}.minutes") for k in ("min", "default", "max"))
        if not 1 <= low <= default <= high:
            doc.fail(f"{where}.minutes", "needs 1 <= min <= default <= max")
        points: int | None = None
        per_point: Mapping[str, int] | None = None
        if "points" in node or "seconds_per_point" in node:
            points = doc.integer(node, "points", where)
            spp = doc.map_of(node, "seconds_per_point", where)
            per_point = MappingProxyType({p: doc.integer(spp, p, f"{where}.seconds_per_point") for p in PRESSURES})
            if points < 1 or min(per_point.values()) < 1:
                doc.fail(where, "points and seconds per point must be positive")
        out[code] = Technique(code, doc.text(node, "label", where), doc.text(node, "description", where),
                              doc.text(node, "cpt", where), doc.integer(node, "keep", where),
                              doc.boolean(node, "needs_feedback", where),
                              doc.boolean(node, "withheld_after_severe_soreness", where),
                              default, low, high, points, per_point, _cited(doc, node, where, source_ids),
                              doc.choice(node, "evidence", GRADES, where),
                              doc.choice(node, "status", STATUSES, where))
    return pressures, out


def _policy(data: Any, source_ids: frozenset[str]) -> tuple[dict[str, PolicySettingSpec],
                                                            dict[str, tuple[float, float]]]:
    doc = Doc("policy.yaml")
    root = doc.mapping(data, "")
    doc.known(root, {"kb_version", "settings", "input_limits"}, "")
    settings: dict[str, PolicySettingSpec] = {}
    for key, node in doc.map_of(root, "settings", "").items():
        where = f"settings.{key}"
        node = doc.mapping(node, where)
        doc.known(node, {"label", "type", "default", "unit", "min", "max", "sources", "status", "bound_sources",
                         "bound_note"}, where)
        kind = doc.choice(node, "type", ("int", "float"), where)
        number = doc.integer if kind == "int" else doc.number
        default, low, high = (float(number(node, k, where)) for k in ("default", "min", "max"))
        if not low <= default <= high:
            doc.fail(where, f"default {default:g} lies outside its own range {low:g}-{high:g}")
        settings[key] = PolicySettingSpec(key, doc.text(node, "label", where), kind, default,
                                          doc.text(node, "unit", where), low, high,
                                          _cited(doc, node, where, source_ids),
                                          doc.choice(node, "status", STATUSES, where),
                                          _cited(doc, node, where, source_ids, "bound_sources"),
                                          doc.text(node, "bound_note", where))
    limits: dict[str, tuple[float, float]] = {}
    for key, value in doc.map_of(root, "input_limits", "").items():
        where = f"input_limits.{key}"
        if (not isinstance(value, list) or len(value) != 2
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
                or value[0] > value[1]):
            doc.fail(where, "expected [low, high] numbers with low <= high")
        limits[key] = (float(value[0]), float(value[1]))
    return settings, limits


@dataclass(frozen=True, slots=True)
class _Vocab:
    """What an effect may name: places, techniques and therapies."""

    regions: RegionIndex
    techniques: Mapping[str, Technique]
    therapies: tuple[str, ...]


def _effects(doc: Doc, node: Any, where: str, vocab: _Vocab, key: str = "effects") -> tuple[Effect, ...]:
    out: list[Effect] = []
    targets = set(vocab.regions.regions) | set(vocab.regions.groups)
    for index, item in enumerate(doc.listing(node, key, where, required=False)):
        at = f"{Doc.path(where, key)}[{index}]"
        item = doc.mapping(item, at)
        doc.known(item, {"spread", "techniques", "max_pressure", "severity", "regions", "exercise", "therapies"}, at)
        spread = doc.choice(item, "spread", SPREADS, at)
        techs = (tuple(vocab.techniques) if item.get("techniques") == ALL
                 else doc.codes(item, "techniques", at, vocab.techniques, required=False))
        therapies = (vocab.therapies if item.get("therapies") == ALL
                     else doc.codes(item, "therapies", at, vocab.therapies, required=False))
        exercise = doc.boolean(item, "exercise", at)
        if not (techs or therapies or exercise):
            doc.fail(at, "an effect restricts techniques, exercise or therapies: name at least one")
        listed = doc.codes(item, "regions", at, targets, required=spread == "regions")
        if spread != "regions" and listed:
            doc.fail(f"{at}.regions", "only spread 'regions' lists regions")
        out.append(Effect(spread, techs, doc.choice(item, "max_pressure", CAPS, at),
                          doc.choice(item, "severity", SEVERITIES, at) if "severity" in item else None,
                          listed, exercise, therapies))
    return tuple(out)


def _referral(doc: Doc, node: Any, key: str, where: str) -> ReferralSpec | None:
    if not isinstance(node, dict) or node.get(key) is None:
        return None
    at = Doc.path(where, key)
    ref = doc.map_of(node, key, where)
    doc.known(ref, {"reason", "urgency", "detail"}, at)
    return ReferralSpec(doc.text(ref, "reason", at), doc.choice(ref, "urgency", URGENCIES, at),
                        doc.text(ref, "detail", at))


def _guards(doc: Doc, node: Any, key: str, where: str, regions: RegionIndex,
            techniques: Mapping[str, Technique]) -> tuple[Guard, ...]:
    out: list[Guard] = []
    for index, item in enumerate(doc.listing(node, key, where, required=False)):
        at = f"{Doc.path(where, key)}[{index}]"
        item = doc.mapping(item, at)
        doc.known(item, {"at", "techniques", "max_pressure"}, at)
        place = doc.opt_text(item, "at", at)
        if place is not None and place not in regions.regions:
            doc.fail(f"{at}.at", f"unknown region {place!r}")
        techs = tuple(techniques) if item.get("techniques") == "all" else doc.codes(item, "techniques", at, techniques)
        out.append(Guard(place, techs, doc.choice(item, "max_pressure", CAPS, at)))
    return tuple(out)


def _conditions(data: Any, regions: RegionIndex, techniques: Mapping[str, Technique],
                source_ids: frozenset[str]) -> tuple[dict[str, PhaseSpec], tuple[Guard, ...],
                                                     tuple[tuple[str, ...], tuple[str, ...]], dict[str, ConditionSpec]]:
    doc = Doc("conditions.yaml")
    root = doc.mapping(data, "")
    doc.known(root, {"kb_version", "phases", "acute_injury", "inflammatory_site_guard", "conditions"}, "")
    raw_phases = doc.map_of(root, "phases", "")
    if tuple(raw_phases) != PHASES:
        doc.fail("phases", f"must list exactly {', '.join(PHASES)}, in that order")
    phases: dict[str, PhaseSpec] = {}
    for code, node in raw_phases.items():
        where = f"phases.{code}"
        node = doc.mapping(node, where)
        doc.known(node, {"label", "irritability", "ceiling", "sources", "evidence"}, where)
        phases[code] = PhaseSpec(code, doc.text(node, "label", where),
                                 doc.choice(node, "irritability", IRRITABILITIES, where),
                                 doc.choice(node, "ceiling", PRESSURES, where), _cited(doc, node, where, source_ids),
                                 doc.choice(node, "evidence", GRADES, where))
    if sorted(p.irritability for p in phases.values()) != sorted(IRRITABILITIES):
        doc.fail("phases", "each irritability level must map to exactly one phase")
    site_guard = _guards(doc, root, "inflammatory_site_guard", "", regions, techniques)
    raw = doc.map_of(root, "conditions", "")
    _vocabulary(doc, raw, "conditions", "conditions")
    out: dict[str, ConditionSpec] = {}
    for code, node in raw.items():
        where = f"conditions.{code}"
        node = doc.mapping(node, where)
        doc.known(node, {"label", "default_region", "regions", "icd10", "icd10_family", "sources", "evidence",
                         "phases", "guards"}, where)
        default_region = doc.opt_text(node, "default_region", where)
        if default_region is not None and (default_region not in regions.regions
                                           or regions.regions[default_region].paired):
            doc.fail(f"{where}.default_region", "must be a midline region (a paired one needs a side)")
        allowed = (tuple(regions.regions) if node.get("regions") == ALL
                   else doc.codes(node, "regions", where, regions.regions))
        if not allowed:
            doc.fail(f"{where}.regions", "list at least one region, or 'all'")
        if default_region is not None and default_region not in allowed:
            doc.fail(f"{where}.default_region", "must be one of the condition's regions")
        icd: list[Icd10] = []
        for index, entry in enumerate(doc.listing(node, "icd10", where)):
            at = f"{where}.icd10[{index}]"
            entry = doc.mapping(entry, at)
            doc.known(entry, {"code", "label", "status", "source"}, at)
            icd.append(Icd10(doc.text(entry, "code", at), doc.text(entry, "label", at),
                             doc.choice(entry, "status", STATUSES, at), doc.choice(entry, "source", source_ids, at)))
        family: list[Icd10Prefix] = []
        for index, entry in enumerate(doc.listing(node, "icd10_family", where)):
            at = f"{where}.icd10_family[{index}]"
            entry = doc.mapping(entry, at)
            doc.known(entry, {"prefix", "label", "status", "source"}, at)
            prefix = doc.text(entry, "prefix", at)
            if not ICD10_PATTERN.match(prefix):
                doc.fail(f"{at}.prefix", f"{prefix!r} is not the start of an ICD-10-CM code (e.g. S46, M54.5)")
            family.append(Icd10Prefix(prefix, doc.text(entry, "label", at), doc.choice(entry, "status", STATUSES, at),
                                      doc.choice(entry, "source", source_ids, at)))
        raw_templates = doc.map_of(node, "phases", where)
        doc.known(raw_templates, PHASES, f"{where}.phases")
        templates: dict[str, tuple[TemplateItem, ...]] = {}
        for phase in PHASES:
            at = f"{where}.phases.{phase}"
            phase_node = doc.map_of(raw_templates, phase, f"{where}.phases")
            doc.known(phase_node, {"items"}, at)
            items: list[TemplateItem] = []
            for index, item in enumerate(doc.listing(phase_node, "items", at)):
                item_at = f"{at}.items[{index}]"
                item = doc.mapping(item, item_at)
                doc.known(item, {"technique", "target", "pressure", "ceiling", "requires", "why"}, item_at)
                pressure = doc.choice(item, "pressure", PRESSURES, item_at)
                if RANK[pressure] > RANK[phases[phase].ceiling]:
                    doc.fail(f"{item_at}.pressure", f"{pressure} is above the {phase} ceiling {phases[phase].ceiling}")
                ceiling = doc.choice(item, "ceiling", PRESSURES, item_at) if "ceiling" in item else None
                if ceiling is not None and RANK[ceiling] < RANK[pressure]:
                    doc.fail(f"{item_at}.ceiling", "is below the item's own pressure")
                items.append(TemplateItem(
                    doc.choice(item, "technique", techniques, item_at),
                    doc.choice(item, "target", ("site", "related", "surrounding", "proximal"), item_at),
                    pressure, ceiling,
                    doc.choice(item, "requires", ("healed_scar",), item_at) if "requires" in item else None,
                    doc.text(item, "why", item_at)))
            if not any(t.requires is None for t in items):
                doc.fail(f"{at}.items", "needs at least one item without a precondition, so every condition gets a plan")
            if phase != "inflammatory" and not any(RANK[t.pressure] > RANK["light"] for t in items):
                # The response to soreness lowers pressure one level; a plan with nothing above light
                # could not show it.
                doc.fail(f"{at}.items", "needs at least one item above light pressure")
            templates[phase] = tuple(items)
        out[code] = ConditionSpec(code, doc.text(node, "label", where), default_region, allowed, tuple(icd),
                                  tuple(family), _cited(doc, node, where, source_ids),
                                  doc.choice(node, "evidence", GRADES, where), MappingProxyType(templates),
                                  _guards(doc, node, "guards", where, regions, techniques))
    acute_node = doc.map_of(root, "acute_injury", "")
    doc.known(acute_node, {"conditions", "sources", "evidence"}, "acute_injury")
    doc.choice(acute_node, "evidence", GRADES, "acute_injury")
    acute = (doc.codes(acute_node, "conditions", "acute_injury", out),
             _cited(doc, acute_node, "acute_injury", source_ids))
    return phases, site_guard, acute, out


def _rules(data: Any, vocab: _Vocab, source_ids: frozenset[str]) -> tuple[dict[str, Rule], DvtWindow]:
    doc = Doc("contraindications.yaml")
    root = doc.mapping(data, "")
    doc.known(root, {"kb_version", "lower_limb_dvt_window", "rules"}, "")
    raw = doc.map_of(root, "rules", "")
    _vocabulary(doc, raw, "whole_body_findings", "rules")
    _vocabulary(doc, raw, "local_findings", "rules")
    out: dict[str, Rule] = {}
    for code, node in raw.items():
        where = f"rules.{code}"
        node = doc.mapping(node, where)
        doc.known(node, {"label", "scope", "severity", "hold", "resolves", "applies_when", "effects", "referral",
                         "implies", "positioning", "modification", "sources", "evidence", "status"}, where)
        scope = doc.choice(node, "scope", ("local", "whole_body"), where)
        if code in VOCABULARY["local_findings"] and scope != "local":
            doc.fail(f"{where}.scope", "vocabulary.md lists this as a local finding")
        if code in VOCABULARY["whole_body_findings"] and scope != "whole_body":
            doc.fail(f"{where}.scope", "vocabulary.md lists this as a whole-body finding")
        effects = _effects(doc, node, where, vocab)
        for index, effect in enumerate(effects):
            if scope == "whole_body" and effect.spread not in ("whole_body", "regions"):
                doc.fail(f"{where}.effects[{index}].spread", "a whole-body finding has no site to spread from")
        out[code] = Rule(code, doc.text(node, "label", where), scope,
                         doc.choice(node, "severity", SEVERITIES, where), doc.boolean(node, "resolves", where),
                         doc.boolean(node, "hold", where),
                         doc.choice(node, "applies_when", ("unhealed_incision",), where) if "applies_when" in node else None,
                         effects, _referral(doc, node, "referral", where),
                         doc.codes(node, "implies", where, required=False),
                         doc.opt_text(node, "positioning", where), doc.text(node, "modification", where),
                         _cited(doc, node, where, source_ids), doc.choice(node, "evidence", GRADES, where),
                         doc.choice(node, "status", STATUSES, where))
    for code, rule in out.items():
        for index, implied in enumerate(rule.implies):
            if implied not in out or out[implied].scope != "whole_body":
                doc.fail(f"rules.{code}.implies[{index}]", f"{implied!r} must be a whole-body finding with a rule")
    at = "lower_limb_dvt_window"
    node = doc.map_of(root, at, "")
    doc.known(node, {"days", "limb", "after", "effects", "sources", "evidence", "status"}, at)
    days = doc.integer(node, "days", at)
    if days < 1:
        doc.fail(f"{at}.days", "must be at least one day")
    limb = doc.choice(node, "limb", [g for g, group in vocab.regions.groups.items() if group.paired], at)
    local = [c for c, r in out.items() if r.scope == "local"]
    window = DvtWindow(days, limb, doc.codes(node, "after", at, local), _effects(doc, node, at, vocab),
                       _cited(doc, node, at, source_ids), doc.choice(node, "evidence", GRADES, at),
                       doc.choice(node, "status", STATUSES, at))
    if not window.effects or any(e.spread != "limb" for e in window.effects):
        doc.fail(f"{at}.effects", "the window acts on the whole leg: spread 'limb'")
    return out, window


def _screens(data: Any, vocab: _Vocab, rules: Mapping[str, Rule], conditions: Mapping[str, ConditionSpec],
             settings: Mapping[str, PolicySettingSpec],
             source_ids: frozenset[str]) -> tuple[WellsSpec, dict[str, OttawaSpec], tuple[RedFlag, ...]]:
    doc = Doc("screens.yaml")
    regions = vocab.regions
    root = doc.mapping(data, "")
    doc.known(root, {"kb_version", "wells", "ottawa_ankle", "ottawa_foot", "red_flags"}, "")
    wells_node = doc.map_of(root, "wells", "")
    doc.known(wells_node, {"items", "versions", "on_block", "leg_symptoms_after_immobilisation", "leg_signs"}, "wells")
    raw_versions = doc.map_of(wells_node, "versions", "wells")
    versions: dict[str, WellsVersion] = {}
    for version, node in raw_versions.items():
        where = f"wells.versions.{version}"
        node = doc.mapping(node, where)
        doc.known(node, {"sources", "categories"}, where)
        bands: list[WellsBand] = []
        for index, band in enumerate(doc.listing(node, "categories", where)):
            at = f"{where}.categories[{index}]"
            band = doc.mapping(band, at)
            doc.known(band, {"category", "min", "blocks"}, at)
            minimum = band.get("min")
            if minimum is not None and (not isinstance(minimum, int) or isinstance(minimum, bool)):
                doc.fail(f"{at}.min", "expected a whole number or null")
            bands.append(WellsBand(doc.text(band, "category", at), minimum, doc.boolean(band, "blocks", at)))
        if not bands or bands[-1].min is not None or any(b.min is None for b in bands[:-1]):
            doc.fail(f"{where}.categories", "the last band (and only it) must have no minimum")
        mins = [b.min for b in bands[:-1] if b.min is not None]
        if mins != sorted(mins, reverse=True) or len(set(mins)) != len(mins):
            doc.fail(f"{where}.categories", "bands must go from the highest minimum down")
        versions[version] = WellsVersion(version, _cited(doc, node, where, source_ids), tuple(bands))
    if set(versions) != {"1997", "2003"}:
        doc.fail("wells.versions", "must define 1997 and 2003")
    items: dict[str, Mapping[str, int]] = {}
    labels: dict[str, str] = {}
    raw_items = doc.map_of(wells_node, "items", "wells")
    _vocabulary(doc, raw_items, "wells_items", "wells.items")
    for item, node in raw_items.items():
        where = f"wells.items.{item}"
        node = doc.mapping(node, where)
        doc.known(node, {"label", "points"}, where)
        points = doc.map_of(node, "points", where)
        doc.known(points, versions, f"{where}.points")
        items[item] = MappingProxyType({v: doc.integer(points, v, f"{where}.points") for v in points})
        labels[item] = doc.text(node, "label", where)
    block = doc.map_of(wells_node, "on_block", "wells")
    doc.known(block, {"hold", "effects", "referral"}, "wells.on_block")
    block_referral = _referral(doc, block, "referral", "wells.on_block")
    leg = doc.map_of(wells_node, "leg_symptoms_after_immobilisation", "wells")
    leg_at = "wells.leg_symptoms_after_immobilisation"
    doc.known(leg, {"risk_items", "symptom_items", "effects", "referral", "sources", "evidence", "status"}, leg_at)
    leg_referral = _referral(doc, leg, "referral", leg_at)
    signs = doc.map_of(wells_node, "leg_signs", "wells")
    signs_at = "wells.leg_signs"
    doc.known(signs, {"items", "effects", "referral", "sources", "evidence", "status"}, signs_at)
    signs_referral = _referral(doc, signs, "referral", signs_at)
    if block_referral is None or leg_referral is None or signs_referral is None:
        doc.fail("wells", "on_block, leg_symptoms_after_immobilisation and leg_signs need a referral")
    wells = WellsSpec(MappingProxyType(items), MappingProxyType(labels), MappingProxyType(versions),
                      doc.boolean(block, "hold", "wells.on_block"),
                      _effects(doc, block, "wells.on_block", vocab), block_referral,
                      doc.codes(leg, "risk_items", leg_at, items), doc.codes(leg, "symptom_items", leg_at, items),
                      _effects(doc, leg, leg_at, vocab), leg_referral, _cited(doc, leg, leg_at, source_ids),
                      doc.codes(signs, "items", signs_at, items), _effects(doc, signs, signs_at, vocab),
                      signs_referral, _cited(doc, signs, signs_at, source_ids))
    ottawa: dict[str, OttawaSpec] = {}
    for name in ("ottawa_ankle", "ottawa_foot"):
        node = doc.map_of(root, name, "")
        doc.known(node, {"label", "zone", "criteria", "suspected_fracture_at", "referral", "sources", "evidence",
                         "status"}, name)
        referral = _referral(doc, node, "referral", name)
        if referral is None:
            doc.fail(name, "needs a referral")
        ottawa[name] = OttawaSpec(name, doc.text(node, "label", name), doc.text(node, "zone", name),
                                  doc.codes(node, "criteria", name),
                                  doc.codes(node, "suspected_fracture_at", name, regions.regions),
                                  referral, _cited(doc, node, name, source_ids),
                                  doc.choice(node, "evidence", GRADES, name), doc.choice(node, "status", STATUSES, name))
    flags: list[RedFlag] = []
    for code, node in doc.map_of(root, "red_flags", "").items():
        where = f"red_flags.{code}"
        node = doc.mapping(node, where)
        doc.known(node, {"label", "category", "all_of", "any_of", "none_of", "hold", "effects",
                         "suspected_fracture_at", "referral", "sources", "evidence", "status"}, where)
        atoms = {key: doc.codes(node, key, where, required=key == "all_of") for key in ("all_of", "any_of", "none_of")}
        for key, listed in atoms.items():
            for index, atom in enumerate(listed):
                problem = _atom_problem(atom, rules, regions, conditions, settings)
                if problem:
                    doc.fail(f"{where}.{key}[{index}]", problem)
                if key == "none_of" and not atom.startswith(("condition:", "condition_at:")):
                    doc.fail(f"{where}.none_of[{index}]", "may only name conditions, so a new finding never lifts a flag")
        suspected = (doc.choice(node, "suspected_fracture_at", ("pain", "new_pain"), where)
                     if "suspected_fracture_at" in node else None)
        flags.append(RedFlag(code, doc.text(node, "label", where),
                             doc.choice(node, "category", ("cauda_equina", "neurological", "fracture",
                                                           "tumour_or_infection"), where),
                             atoms["all_of"], atoms["any_of"], atoms["none_of"], doc.boolean(node, "hold", where),
                             _effects(doc, node, where, vocab), suspected,
                             _referral(doc, node, "referral", where), _cited(doc, node, where, source_ids),
                             doc.choice(node, "evidence", GRADES, where), doc.choice(node, "status", STATUSES, where)))
    return wells, ottawa, tuple(flags)


def _atom_problem(atom: str, rules: Mapping[str, Rule], regions: RegionIndex,
                  conditions: Mapping[str, ConditionSpec], settings: Mapping[str, PolicySettingSpec]) -> str:
    targets = set(regions.regions) | set(regions.groups) | {WHOLE_BODY}
    kind, _, value = atom.partition(":")
    if kind == "condition":
        return "" if value in conditions else f"unknown condition in {atom!r}"
    if kind in ("condition_at", "pain_at"):
        return "" if value in targets else f"unknown region in {atom!r}"
    if kind in ("age_over", "age_under"):
        return "" if value in settings else f"unknown policy setting in {atom!r}"
    code, _, place = atom.partition("@")
    if code not in rules:
        return f"unknown finding {code!r}"
    if place and place not in targets:
        return f"unknown region {place!r}"
    return ""


def _therapies(data: Any, conditions: Mapping[str, ConditionSpec], settings: Mapping[str, PolicySettingSpec],
               source_ids: frozenset[str]) -> dict[str, Therapy]:
    doc = Doc("complementary.yaml")
    root = doc.mapping(data, "")
    doc.known(root, {"kb_version", "therapies"}, "")
    raw = doc.map_of(root, "therapies", "")
    _vocabulary(doc, raw, "therapies", "therapies")
    out: dict[str, Therapy] = {}
    for code, node in raw.items():
        where = f"therapies.{code}"
        node = doc.mapping(node, where)
        # What rules a therapy out lives in the restrictions (contraindications.yaml), never here.
        doc.known(node, {"label", "cpt", "when", "why", "sources", "evidence"}, where)
        when = doc.map_of(node, "when", where)
        doc.known(when, {"phases", "conditions", "pain_at_least"}, f"{where}.when")
        pain = doc.opt_text(when, "pain_at_least", f"{where}.when")
        if pain is not None and pain not in settings:
            doc.fail(f"{where}.when.pain_at_least", f"unknown policy setting {pain!r}")
        out[code] = Therapy(
            code, doc.text(node, "label", where), doc.opt_text(node, "cpt", where), doc.text(node, "why", where),
            doc.codes(when, "phases", f"{where}.when", PHASES) if "phases" in when else None,
            doc.codes(when, "conditions", f"{where}.when", conditions) if "conditions" in when else None,
            pain, _cited(doc, node, where, source_ids), doc.choice(node, "evidence", GRADES, where))
    return out


def _exercises(data: Any, regions: RegionIndex, rules: Mapping[str, Rule], conditions: Mapping[str, ConditionSpec],
               source_ids: frozenset[str]) -> tuple[tuple[Exercise, ...], tuple[str, ...], str]:
    doc = Doc("exercises.yaml")
    root = doc.mapping(data, "")
    doc.known(root, {"kb_version", "sources", "evidence", "handout_advice", "exercises"}, "")
    out: list[Exercise] = []
    for code, node in doc.map_of(root, "exercises", "").items():
        where = f"exercises.{code}"
        node = doc.mapping(node, where)
        doc.known(node, {"name", "regions", "loads", "phases", "conditions", "avoid_with", "dose", "instructions"}, where)
        listed = doc.codes(node, "regions", where, regions.regions)
        loads = doc.codes(node, "loads", where, regions.regions, required=False)
        phases = doc.codes(node, "phases", where, PHASES)
        if not listed or not phases:
            doc.fail(where, "needs at least one region and one phase")
        for index, region in enumerate(loads):
            if region in listed:
                doc.fail(f"{where}.loads[{index}]", f"{region} is already one of the exercise's regions")
        out.append(Exercise(code, doc.text(node, "name", where), listed, loads, phases,
                            doc.codes(node, "conditions", where, conditions) if "conditions" in node else None,
                            doc.codes(node, "avoid_with", where, rules, required=False),
                            doc.text(node, "dose", where), doc.text(node, "instructions", where)))
    if len(out) < 30:
        doc.fail("exercises", f"the library needs at least 30 exercises, has {len(out)}")
    doc.choice(root, "evidence", GRADES, "")
    return tuple(out), _cited(doc, root, "", source_ids), doc.text(root, "handout_advice", "")


# Keyed by the knowledge base's id, holding the knowledge base itself so the id cannot be reused.
_EXERCISES: dict[int, tuple[ClinicalKB, Mapping[str, Exercise]]] = {}


def _exercise_index(kb: ClinicalKB) -> Mapping[str, Exercise]:
    cached = _EXERCISES.get(id(kb))
    if cached is None:
        cached = (kb, MappingProxyType({e.code: e for e in kb.exercises}))
        _EXERCISES.clear()
        _EXERCISES[id(kb)] = cached
    return cached[1]
