"""Safety screening: findings, vitals and screens become restrictions, referrals and holds.

Order of evaluation follows planning-policy.md §1: every piece of evidence is first turned into an
*active finding* (vitals above a threshold become ``fever`` or ``uncontrolled_hypertension``, a
post-operative condition brings its incision, ``tumour`` implies ``active_cancer``), then each
finding's rule from ``contraindications.yaml`` adds holds, restrictions and referrals, then the
red-flag combinations, the Wells DVT score and the Ottawa rules of ``screens.yaml`` add theirs.

Restrictions are monotone by construction: a finding only ever adds restrictions, and no rule or
red flag is lifted by another finding, so adding a finding never makes a plan less restrictive.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from palpate.core.kb.clinical import (
    RANK,
    SEVERITIES,
    URGENCIES,
    WHOLE_BODY,
    ClinicalKB,
    Effect,
    RedFlag,
    ReferralSpec,
    knowledge_base,
)
from palpate.core.policy import Policy, apply_overrides, default_policy
from palpate.core.regions import Cell, cells, covers, spread
from palpate.core.request import PlanRequest

NO_CAP = ("deep", ())
SIDE_ORDER = MappingProxyType({None: 0, "left": 1, "right": 2})


@dataclass(frozen=True, slots=True)
class ActiveFinding:
    """A finding in force today, and where it came from (the request, vitals, a condition...)."""

    code: str
    region: str | None
    side: str | None
    origin: str  # finding | vitals | patient | condition | wells | implied
    detail: str
    days_ago: float | None = None
    closed: bool | None = None

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "region": self.region, "side": self.side, "origin": self.origin,
                "detail": self.detail}


@dataclass(frozen=True, slots=True)
class Restriction:
    """What must not be done (max_pressure ``none``) or not harder than a cap, where, and why."""

    region: str  # a region, a group or whole_body
    side: str | None
    techniques: tuple[str, ...]
    max_pressure: str  # none | light | moderate
    severity: str  # absolute | relative | referral
    because: tuple[str, ...]
    sources: tuple[str, ...]
    detail: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"region": self.region, "side": self.side, "techniques": list(self.techniques),
                "max_pressure": self.max_pressure, "severity": self.severity, "because": list(self.because),
                "sources": list(self.sources), "detail": list(self.detail)}


@dataclass(frozen=True, slots=True)
class Referral:
    reason: str
    urgency: str  # emergency | same_day | routine
    detail: str
    because: tuple[str, ...]
    sources: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"reason": self.reason, "urgency": self.urgency, "detail": self.detail,
                "because": list(self.because), "sources": list(self.sources)}


@dataclass(frozen=True, slots=True)
class WellsResult:
    version: str
    side: str | None
    score: int
    category: str
    blocks: bool
    items: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"version": self.version, "score": self.score, "category": self.category, "side": self.side,
                "items": list(self.items), "blocks_lower_limb": self.blocks}


@dataclass(frozen=True, slots=True)
class OttawaResult:
    rule: str
    side: str | None
    positive: bool

    def to_json(self) -> dict[str, Any]:
        return {"positive": self.positive, "side": self.side}


@dataclass(frozen=True, slots=True)
class FlagResult:
    code: str
    label: str
    category: str

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "label": self.label, "category": self.category}


@dataclass(frozen=True, slots=True)
class ScreenResult:
    hold: bool
    hold_because: tuple[str, ...]
    restrictions: tuple[Restriction, ...]
    referrals: tuple[Referral, ...]
    wells: WellsResult | None
    ottawa: tuple[OttawaResult, ...]
    red_flags: tuple[FlagResult, ...]
    findings: tuple[ActiveFinding, ...]
    positioning: tuple[str, ...]
    notes: tuple[str, ...]
    # cell -> technique -> (tightest max_pressure, indices of the restrictions that set it)
    caps: Mapping[Cell, Mapping[str, tuple[str, tuple[int, ...]]]]

    def cap(self, technique: str, region: str, side: str | None) -> tuple[str, tuple[int, ...]]:
        """The tightest pressure allowed for a technique at a cell (``deep`` when unrestricted)."""
        return self.caps.get((region, side), {}).get(technique, NO_CAP)

    def blocked(self, region: str, side: str | None, techniques: Iterable[str]) -> bool:
        """True when every listed technique is forbidden at the cell."""
        at = self.caps.get((region, side), {})
        return all(at.get(t, NO_CAP)[0] == "none" for t in techniques)

    def has(self, code: str) -> bool:
        return any(f.code == code for f in self.findings)

    def screens_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.wells is not None:
            out["wells"] = self.wells.to_json()
        for result in self.ottawa:
            out[result.rule] = result.to_json()
        out["red_flags"] = {
            "cauda_equina": any(r.reason == "cauda_equina" for r in self.referrals),
            "flags": [f.to_json() for f in self.red_flags],
        }
        return out


def screen(request: PlanRequest, policy: Policy | None = None) -> ScreenResult:
    """Screen one patient: restrictions, referrals and whether today's session must be held."""
    base = policy if policy is not None else default_policy()
    return _Screener(knowledge_base(), apply_overrides(base, dict(request.policy_overrides)), request).run()


class _Screener:
    def __init__(self, kb: ClinicalKB, policy: Policy, request: PlanRequest) -> None:
        self.kb = kb
        self.index = kb.regions
        self.policy = policy
        self.request = request
        self.hold_because: set[str] = set()
        # (region, side, techniques, max_pressure, severity) -> (because, sources, detail)
        self.raw: dict[tuple[str, str | None, tuple[str, ...], str, str], tuple[set[str], set[str], set[str]]] = {}
        self.referrals: dict[str, list[tuple[ReferralSpec, str, tuple[str, ...], tuple[str, ...]]]] = {}
        self.positioning: set[str] = set()
        self.notes: list[str] = []

    def run(self) -> ScreenResult:
        findings = self.active_findings()
        for finding in findings:
            self.apply_rule(finding)
        flags = self.red_flags(findings)
        wells = self.wells()
        ottawa = self.ottawa()
        restrictions = self.restrictions()
        return ScreenResult(
            hold=bool(self.hold_because), hold_because=tuple(sorted(self.hold_because)),
            restrictions=restrictions, referrals=self.merged_referrals(), wells=wells, ottawa=ottawa,
            red_flags=flags, findings=findings, positioning=tuple(sorted(self.positioning)),
            notes=tuple(dict.fromkeys(self.notes)), caps=self.caps(restrictions))

    # -- evidence into findings --------------------------------------------------------------------

    def active_findings(self) -> tuple[ActiveFinding, ...]:
        request, policy = self.request, self.policy
        found: list[ActiveFinding] = [
            ActiveFinding(f.code, f.region, f.side, "finding", "reported finding", f.days_ago, f.closed)
            for f in request.findings]
        vitals = request.vitals
        if vitals.temperature_c is not None and vitals.temperature_c >= policy.fever_c:
            found.append(ActiveFinding("fever", None, None, "vitals",
                                       f"temperature {vitals.temperature_c:g} °C at or above {policy.fever_c:g} °C"))
        high_systolic = vitals.bp_systolic is not None and vitals.bp_systolic >= policy.bp_systolic
        high_diastolic = vitals.bp_diastolic is not None and vitals.bp_diastolic >= policy.bp_diastolic
        if high_systolic or high_diastolic:
            found.append(ActiveFinding("uncontrolled_hypertension", None, None, "vitals",
                                       f"blood pressure {_bp(vitals.bp_systolic)}/{_bp(vitals.bp_diastolic)} mmHg at or "
                                       f"above {policy.bp_systolic}/{policy.bp_diastolic} mmHg"))
        patient = request.patient
        if patient.can_give_feedback is False:
            found.append(ActiveFinding("cannot_give_feedback", None, None, "patient", "cannot give feedback"))
        if patient.pregnancy_weeks is not None and patient.pregnancy_weeks > 0:
            found.append(ActiveFinding("pregnancy", None, None, "patient", f"pregnant, {patient.pregnancy_weeks:g} weeks"))
        if patient.high_risk_pregnancy:
            found.append(ActiveFinding("high_risk_pregnancy", None, None, "patient", "high-risk pregnancy"))
        for condition in request.conditions:
            if condition.code == "post_operative":
                days = condition.surgery_days_ago if condition.surgery_days_ago is not None else condition.onset_days
                found.append(ActiveFinding("surgical_incision", condition.region, condition.side, "condition",
                                           "incision of the post-operative condition", days,
                                           condition.incision_closed))
        if request.wells is not None and "active_cancer" in request.wells.items:
            found.append(ActiveFinding("active_cancer", None, None, "wells", "active cancer (Wells item)"))
        present = {f.code for f in found}
        for finding in list(found):
            for implied in self.kb.rules[finding.code].implies:
                if implied not in present:
                    present.add(implied)
                    found.append(ActiveFinding(implied, None, None, "implied", f"implied by {finding.code}"))
        return tuple(sorted(found, key=lambda f: (f.code, self.index.order.get(f.region or WHOLE_BODY, 0),
                                                  SIDE_ORDER[f.side], f.origin, f.detail)))

    def healed(self, finding: ActiveFinding) -> bool:
        """An incision is healed once closed and old enough (policy incision_healed_days); unknown is not."""
        return (finding.closed is True and finding.days_ago is not None
                and finding.days_ago >= self.policy.incision_healed_days)

    # -- rules -------------------------------------------------------------------------------------

    def apply_rule(self, finding: ActiveFinding) -> None:
        rule = self.kb.rules[finding.code]
        if rule.applies_when == "unhealed_incision" and self.healed(finding):
            self.notes.append(f"Healed incision at {_where(finding.region, finding.side)}: no restriction; "
                              "scar work is allowed.")
            return
        if rule.hold:
            self.hold_because.add(finding.code)
        detail = rule.modification if finding.origin == "finding" else f"{rule.modification} ({finding.detail})"
        self.add_effects(rule.effects, rule.severity, finding.region or WHOLE_BODY, finding.side, (finding.code,),
                         rule.sources, detail)
        if rule.referral is not None:
            self.refer(rule.referral, (finding.code,), rule.sources)
        if rule.positioning:
            self.positioning.add(rule.positioning)
        if not (rule.hold or rule.effects or rule.referral or rule.positioning):
            # A precaution that changes nothing by itself is still shown (red flags act in combination).
            self.notes.append(f"{rule.label}: {rule.modification}")

    def add_effects(self, effects: Iterable[Effect], severity: str, site: str, side: str | None,
                    because: tuple[str, ...], sources: tuple[str, ...], detail: str,
                    findings: tuple[ActiveFinding, ...] = ()) -> None:
        cited = self.kb.cite(sources)
        for effect in effects:
            if effect.spread == "finding_site":
                places = [(f.region or WHOLE_BODY, f.side) for f in findings if f.code == effect.finding]
            else:
                places = [(site, side)]
            for place, place_side in places:
                for target, target_side in spread(self.index, effect.spread, place, place_side, effect.regions):
                    key = (target, target_side, effect.techniques, effect.max_pressure, effect.severity or severity)
                    slot = self.raw.setdefault(key, (set(), set(), set()))
                    slot[0].update(because)
                    slot[1].update(cited)
                    slot[2].add(detail)

    def refer(self, spec: ReferralSpec, because: tuple[str, ...], sources: tuple[str, ...],
              detail: str | None = None) -> None:
        self.referrals.setdefault(spec.reason, []).append((spec, detail or spec.detail, because, self.kb.cite(sources)))

    # -- red flags, Wells, Ottawa ------------------------------------------------------------------

    def red_flags(self, findings: tuple[ActiveFinding, ...]) -> tuple[FlagResult, ...]:
        fired: list[FlagResult] = []
        for flag in self.kb.red_flags:
            if not self.flag_fires(flag, findings):
                continue
            fired.append(FlagResult(flag.code, flag.label, flag.category))
            atoms = [a for a in (*flag.all_of, *flag.any_of) if self.atom(a, findings)]
            because = tuple(sorted({a.partition("@")[0] for a in atoms if ":" not in a})) or (flag.code,)
            if flag.hold:
                self.hold_because.add(flag.code)
            involved = tuple(f for f in findings if f.code in because)
            self.add_effects(flag.effects, "referral", WHOLE_BODY, None, because, flag.sources, flag.label, involved)
            if flag.referral is not None:
                self.refer(flag.referral, because, flag.sources)
        return tuple(fired)

    def flag_fires(self, flag: RedFlag, findings: tuple[ActiveFinding, ...]) -> bool:
        return (all(self.atom(a, findings) for a in flag.all_of)
                and (not flag.any_of or any(self.atom(a, findings) for a in flag.any_of))
                and not any(self.atom(a, findings) for a in flag.none_of))

    def atom(self, atom: str, findings: tuple[ActiveFinding, ...]) -> bool:
        kind, _, value = atom.partition(":")
        if kind == "condition":
            return any(c.code == value for c in self.request.conditions)
        if kind == "condition_at":
            return any(covers(self.index, value, None, c.region, c.side) for c in self.request.conditions)
        if kind == "age_over":
            age = self.request.patient.age
            return age is not None and age > self.policy.value(value)
        code, _, place = atom.partition("@")
        for finding in findings:
            if finding.code != code:
                continue
            if not place:
                return True
            here = set(self.index.members(finding.region or WHOLE_BODY))
            if here & set(self.index.members(place)):
                return True
        return False

    def wells(self) -> WellsResult | None:
        wells = self.request.wells
        if wells is None:
            return None
        spec = self.kb.wells
        score = sum(spec.items[item][wells.version] for item in wells.items)
        version = spec.versions[wells.version]
        band = next(b for b in version.bands if b.min is None or score >= b.min)
        result = WellsResult(wells.version, wells.side, score, band.category, band.blocks, wells.items)
        if wells.side is None:
            self.notes.append("Wells screen without a side: both legs are treated as symptomatic.")
        because = (f"wells_{wells.version}_{band.category}",)
        if band.blocks:
            if spec.block_hold:
                self.hold_because.add(because[0])
            detail = spec.block_referral.detail.format(version=wells.version, score=score, category=band.category)
            self.add_effects(spec.block_effects, "absolute", "lower_limb", wells.side, because, version.sources,
                             detail)
            self.refer(spec.block_referral, because, version.sources, detail)
            return result
        risk = [i for i in wells.items if i in spec.leg_risk_items]
        symptoms = [i for i in wells.items if i in spec.leg_symptom_items]
        if risk and symptoms:
            # facts.md §B.1: leg symptoms after surgery or immobilisation block the leg whatever the score.
            because = ("leg_symptoms_after_immobilisation",)
            self.add_effects(spec.leg_effects, "absolute", "lower_limb", wells.side, because, spec.leg_sources,
                             spec.leg_referral.detail)
            self.refer(spec.leg_referral, because, spec.leg_sources)
        return result

    def ottawa(self) -> tuple[OttawaResult, ...]:
        results: list[OttawaResult] = []
        for answers in self.request.ottawa:
            spec = self.kb.ottawa[answers.rule]
            positive = answers.answer(spec.zone) and any(answers.answer(c) for c in spec.criteria)
            results.append(OttawaResult(answers.rule, answers.side, positive))
            if not positive:
                continue
            if answers.side is None:
                self.notes.append(f"{spec.label} without a side: both ankles and feet are restricted.")
            because = (answers.rule,)
            self.add_effects(spec.effects, "absolute", WHOLE_BODY, answers.side, because, spec.sources,
                             spec.referral.detail)
            self.refer(spec.referral, because, spec.sources)
        return tuple(results)

    # -- assembling --------------------------------------------------------------------------------

    def restrictions(self) -> tuple[Restriction, ...]:
        order, techniques = self.index.order, list(self.kb.techniques)
        out = [Restriction(region, side, tuple(sorted(techs, key=techniques.index)), cap, severity,
                           tuple(sorted(because)), tuple(sorted(sources)), tuple(sorted(detail)))
               for (region, side, techs, cap, severity), (because, sources, detail) in self.raw.items()]
        return tuple(sorted(out, key=lambda r: (order[r.region], SIDE_ORDER[r.side], RANK[r.max_pressure],
                                                SEVERITIES.index(r.severity),
                                                tuple(techniques.index(t) for t in r.techniques), r.because)))

    def caps(self, restrictions: tuple[Restriction, ...]) -> Mapping[Cell, Mapping[str, tuple[str, tuple[int, ...]]]]:
        caps: dict[Cell, dict[str, tuple[str, tuple[int, ...]]]] = {}
        for number, restriction in enumerate(restrictions):
            for cell in cells(self.index, restriction.region, restriction.side):
                at = caps.setdefault(cell, {})
                for technique in restriction.techniques:
                    current, by = at.get(technique, NO_CAP)
                    if RANK[restriction.max_pressure] < RANK[current]:
                        at[technique] = (restriction.max_pressure, (number,))
                    elif RANK[restriction.max_pressure] == RANK[current]:
                        at[technique] = (current, (*by, number))
        return MappingProxyType({cell: MappingProxyType(at) for cell, at in caps.items()})

    def merged_referrals(self) -> tuple[Referral, ...]:
        out: list[Referral] = []
        for reason, entries in self.referrals.items():
            # One referral per reason, at the most urgent level any rule asked for.
            entries.sort(key=lambda e: (URGENCIES.index(e[0].urgency), e[1]))
            top = entries[0]
            because = sorted({b for e in entries for b in e[2]})
            sources = sorted({s for e in entries for s in e[3]})
            out.append(Referral(reason, top[0].urgency, top[1], tuple(because), tuple(sources)))
        return tuple(sorted(out, key=lambda r: (URGENCIES.index(r.urgency), r.reason)))


def _bp(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def _where(region: str | None, side: str | None) -> str:
    return f"{side} {region}" if side else str(region)
