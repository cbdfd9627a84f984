"""Clinic policy: the thresholds a clinic may adjust without editing code.

Defaults, units, ranges and sources live in ``kb/policy.yaml``. Most of them are UNVERIFIED in
shared/clinical/facts.md (no source gave a fever or blood-pressure cut-off), so the settings page
shows each with its source or the word ``policy`` and an UNVERIFIED label. A clinic's values are
applied with :func:`apply_overrides`, which checks keys, types and ranges like any other input.
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

    @property
    def unverified(self) -> bool:
        """Shown with an UNVERIFIED label: no retrieved source fixes this number."""
        return self.status == "UNVERIFIED"

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "label": self.label, "default": _typed(self.type, self.default),
                "unit": self.unit, "min": _typed(self.type, self.min), "max": _typed(self.type, self.max),
                "sources": list(self.sources), "status": self.status, "unverified": self.unverified}


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
    return tuple(PolicySetting(s.key, s.label, s.default, s.unit, s.min, s.max, s.type, kb.cite(s.sources), s.status)
                 for s in kb.policy_settings.values())


def check_overrides(overrides: Any, path: str = "policy") -> dict[str, float]:
    """Validate a mapping of clinic overrides (keys, types, ranges); returns the typed values."""
    if not isinstance(overrides, dict):
        raise InputError("wrong_type", "policy must be an object of setting: value", path)
    specs = knowledge_base().policy_settings
    out: dict[str, float] = {}
    for key, value in overrides.items():
        where = f"{path}.{key}"
        spec = specs.get(key)
        if spec is None:
            raise InputError("unknown_field", f"unknown policy setting {key!r}; known: {', '.join(POLICY_KEYS)}", where)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not isfinite(value):
            raise InputError("wrong_type", f"{key} must be a number", where)
        if spec.type == "int" and float(value) != int(value):
            raise InputError("wrong_type", f"{key} must be a whole number", where)
        if not spec.min <= value <= spec.max:
            raise InputError("out_of_range", f"{key} must be between {spec.min:g} and {spec.max:g} {spec.unit}", where)
        out[key] = int(value) if spec.type == "int" else float(value)
    return out


def apply_overrides(base: Policy, overrides: Mapping[str, Any], path: str = "policy") -> Policy:
    """``base`` with a clinic's overrides applied; raises InputError for bad keys or values."""
    if not overrides:
        return base
    values: dict[str, Any] = check_overrides(dict(overrides), path)
    policy = replace(base, **values)
    _check_consistent(policy, path, input_error=True)
    return policy


def _check_consistent(policy: Policy, where: str, input_error: bool = False) -> None:
    problems = []
    if policy.session_minutes_min > policy.session_minutes_max:
        problems.append("session_minutes_min must not exceed session_minutes_max")
    if policy.inflammatory_max_days >= policy.proliferative_max_days:
        problems.append("inflammatory_max_days must be below proliferative_max_days")
    if policy.nprs_moderate_min >= policy.nprs_high_min:
        problems.append("nprs_moderate_min must be below nprs_high_min")
    if policy.soreness_progress_max >= policy.soreness_lower_min:
        problems.append("soreness_progress_max must be below soreness_lower_min")
    if problems:
        if input_error:
            raise InputError("invalid_value", "; ".join(problems), where)
        raise KnowledgeBaseError(where, "settings", "; ".join(problems))


def _typed(kind: str, value: float) -> float:
    return int(value) if kind == "int" else float(value)
