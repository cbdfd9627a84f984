"""Clinic policy: the thresholds a clinic may adjust without editing code.

Defaults, units, safe bounds and sources live in ``kb/policy.yaml``. Most of them are UNVERIFIED in
shared/clinical/facts.md (no source gave a fever or blood-pressure cut-off), so the settings page
shows each with its source or the word ``policy`` and an UNVERIFIED label. A clinic's values are
applied with :func:`apply_overrides`, which checks keys, types and bounds like any other input.

Planning policy §1.7: settings can make the policy stricter, never looser than a safe bound. A
value outside its bound is refused with an error naming the bound (:func:`check_setting`, which
the settings form calls too), never silently clamped. Only a data migration of values stored
before the bounds existed brings them to their bound, and says so (:func:`overrides_within_bounds`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from functools import lru_cache
from math import isfinite
from typing import Any

from palpate.core.errors import InputError, KnowledgeBaseError
from palpate.core.kb.clinical import knowledge_base


@dataclass(frozen=True, slots=True)
class Policy:
    """One clinic's thresholds. Field names are the keys of ``kb/policy.yaml`` ``settings``."""

    fever_c: float
    bp_systolic: int
    bp_diastolic: int
    session_minutes_min: int
    session_minutes_max: int
    inflammatory_max_days: int
    proliferative_max_days: int
    nprs_high_min: int
    nprs_moderate_min: int
    soreness_lower_min: int
    soreness_hours_max: int
    soreness_progress_max: int
    incision_healed_days: int
    older_patient_age: int
    estim_pain_min: int
    home_exercises_max: int
    soreness_severe_min: int
    soreness_severe_hours: int
    red_flag_age_over: int
    red_flag_age_under: int

    def value(self, key: str) -> float:
        number: float = getattr(self, key)
        return number


@dataclass(frozen=True, slots=True)
class PolicySetting:
    """What the clinic settings page shows for one threshold."""

    key: str
    label: str
    default: float
    unit: str
    min: float
    max: float
    type: str
    sources: tuple[str, ...]
    status: str
    bound_sources: tuple[str, ...] = ()
    bound_note: str = ""

    @property
    def unverified(self) -> bool:
        """Shown with an UNVERIFIED label: no retrieved source fixes this number."""
        return self.status == "UNVERIFIED"

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "label": self.label, "default": _typed(self.type, self.default),
                "unit": self.unit, "min": _typed(self.type, self.min), "max": _typed(self.type, self.max),
                "sources": list(self.sources), "status": self.status, "unverified": self.unverified,
                "bound_sources": list(self.bound_sources), "bound_note": self.bound_note}

    def bound_text(self) -> str:
        """The safe bound in words, for an error message or a form's help text."""
        low, high = _typed(self.type, self.min), _typed(self.type, self.max)
        return f"{low:g} to {high:g} {self.unit} ({self.bound_note})"


POLICY_KEYS = tuple(f.name for f in fields(Policy))


@lru_cache(maxsize=1)
def default_policy() -> Policy:
    """The knowledge base's default thresholds."""
    specs = knowledge_base().policy_settings
    missing = [key for key in POLICY_KEYS if key not in specs]
    extra = [key for key in specs if key not in POLICY_KEYS]
    if missing or extra:
        raise KnowledgeBaseError("policy.yaml", "settings",
                                 f"settings must match the code: missing {missing}, unknown {extra}")
    values: dict[str, Any] = {key: _typed(specs[key].type, specs[key].default) for key in POLICY_KEYS}
    policy = Policy(**values)
    _check_consistent(policy, "policy.yaml")
    return policy


def policy_settings() -> tuple[PolicySetting, ...]:
    """Every threshold with its default, unit, range, source (or 'policy') and status."""
    kb = knowledge_base()
    default_policy()  # validates that the file and the code agree
    return tuple(setting_bound(key) for key in kb.policy_settings)


def setting_bound(key: str) -> PolicySetting:
    """One setting with its default and safe bound (``min``/``max``, ``bound_text()``), for a form."""
    kb = knowledge_base()
    spec = kb.policy_settings.get(key)
    if spec is None:
        raise InputError("unknown_field", f"unknown policy setting {key!r}; known: {', '.join(POLICY_KEYS)}", key)
    return PolicySetting(spec.key, spec.label, spec.default, spec.unit, spec.min, spec.max, spec.type,
                         kb.cite(spec.sources), spec.status, kb.cite(spec.bound_sources), spec.bound_note)


def check_setting(key: str, value: Any, path: str | None = None) -> float:
    """One setting's value, typed; InputError naming the safe bound when it lies outside it.

    The settings form and the request parser both call this, so the bound and its words are the
    same in the app and in ``palpate plan`` (exit 2 there).
    """
    where = path if path is not None else key
    setting = setting_bound(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not isfinite(value):
        raise InputError("wrong_type", f"{key} must be a number", where)
    if setting.type == "int" and float(value) != int(value):
        raise InputError("wrong_type", f"{key} must be a whole number", where)
    if not setting.min <= value <= setting.max:
        raise InputError("out_of_range", f"{key} {value:g} {setting.unit} is outside its safe bound: choose "
                                         f"{setting.bound_text()}. A clinic may make the policy stricter, never "
                                         "looser (planning policy §1.7).", where)
    return _typed(setting.type, float(value))


def bring_to_bound(key: str, value: Any) -> float:
    """A stored value brought to its safe bound (for a data migration only: requests are refused).

    A value inside the bound is returned unchanged; one outside it becomes the nearest bound.
    """
    setting = setting_bound(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not isfinite(value):
        raise InputError("wrong_type", f"{key} must be a number", key)
    return _typed(setting.type, min(max(float(value), setting.min), setting.max))


@dataclass(frozen=True, slots=True)
class BoundChange:
    """What a migration did to one stored setting, for its log and the clinic's audit trail."""

    key: str
    stored: Any
    now: float | None  # None: dropped (unknown setting, or inconsistent with another)
    reason: str


def overrides_within_bounds(stored: Mapping[str, Any]) -> tuple[dict[str, float], tuple[BoundChange, ...]]:
    """A clinic's stored overrides made valid again, and every change made (data migration).

    Each value outside its safe bound is brought to the bound; an unknown key or a non-number is
    dropped (the default applies); if the result is still inconsistent (minimum session above the
    maximum ...), the settings named in the problem are dropped too.
    """
    specs = knowledge_base().policy_settings
    kept: dict[str, float] = {}
    changes: list[BoundChange] = []
    for key, value in sorted(stored.items()):
        if key not in specs:
            changes.append(BoundChange(key, value, None, "unknown setting: the default applies"))
            continue
        try:
            now = bring_to_bound(key, value)
        except InputError as exc:
            changes.append(BoundChange(key, value, None, f"{exc.message}: the default applies"))
            continue
        if now != value:
            changes.append(BoundChange(key, value, now, f"outside its safe bound {setting_bound(key).bound_text()}"))
        kept[key] = now
    while True:
        values: dict[str, Any] = dict(kept)
        found = inconsistencies(replace(default_policy(), **values))
        clash = [key for key in kept if any(key in problem.keys for problem in found)]
        if not clash:
            break
        for key in clash:
            changes.append(BoundChange(key, kept.pop(key), None,
                                       "; ".join(p.message for p in found) + ": the default applies"))
    return kept, tuple(changes)


def check_overrides(overrides: Any, path: str = "policy") -> dict[str, float]:
    """Validate a mapping of clinic overrides (keys, types, safe bounds); returns the typed values."""
    if not isinstance(overrides, dict):
        raise InputError("wrong_type", "policy must be an object of setting: value", path)
    out: dict[str, float] = {}
    for key, value in overrides.items():
        where = f"{path}.{key}"
        if key not in knowledge_base().policy_settings:
            raise InputError("unknown_field", f"unknown policy setting {key!r}; known: {', '.join(POLICY_KEYS)}", where)
        out[key] = check_setting(key, value, where)
    return out


def apply_overrides(base: Policy, overrides: Mapping[str, Any], path: str = "policy") -> Policy:
    """``base`` with a clinic's overrides applied; raises InputError for bad keys or values."""
    if not overrides:
        return base
    values: dict[str, Any] = check_overrides(dict(overrides), path)
    policy = replace(base, **values)
    _check_consistent(policy, path, input_error=True)
    return policy


# Settings that must keep their order: (the lower one, the higher one, whether they may be equal).
ORDERED = (
    ("session_minutes_min", "session_minutes_max", True),
    ("inflammatory_max_days", "proliferative_max_days", False),
    ("nprs_moderate_min", "nprs_high_min", False),
    ("soreness_progress_max", "soreness_lower_min", False),
    ("soreness_lower_min", "soreness_severe_min", True),
    ("soreness_hours_max", "soreness_severe_hours", True),
    ("red_flag_age_under", "red_flag_age_over", False),
)


@dataclass(frozen=True, slots=True)
class Inconsistency:
    """Two settings out of order, in the words of the settings page (never their keys)."""

    keys: tuple[str, str]
    message: str


def inconsistencies(policy: Policy) -> list[Inconsistency]:
    """Every pair of settings out of order (all of them, so a form reports them in one round)."""
    settings = knowledge_base().policy_settings
    problems = []
    for low, high, may_equal in ORDERED:
        a, b = policy.value(low), policy.value(high)
        if a > b or (a == b and not may_equal):
            relation = "at most" if may_equal else "below"
            problems.append(Inconsistency((low, high), (
                f"\u201c{settings[low].label}\u201d ({a:g} {settings[low].unit}) must be {relation} "
                f"\u201c{settings[high].label}\u201d ({b:g} {settings[high].unit})")))
    return problems


def _inconsistencies(policy: Policy) -> list[str]:
    return [problem.message for problem in inconsistencies(policy)]


def _check_consistent(policy: Policy, where: str, input_error: bool = False) -> None:
    problems = _inconsistencies(policy)
    if problems:
        if input_error:
            raise InputError("invalid_value", "; ".join(problems), where)
        raise KnowledgeBaseError(where, "settings", "; ".join(problems))


def _typed(kind: str, value: float) -> float:
    return int(value) if kind == "int" else float(value)
