"""What an episode of care may say: a condition at a region where it can occur, with an ICD-10-CM
code of its family.

Both are knowledge-base data (``conditions.yaml``: ``regions`` and ``icd10_family``). The planner
refuses a condition at a region where it cannot occur (planning policy §2: "any other pairing is
refused with an error that lists the regions allowed"); the web app's episode form asks the same
functions, so a carpal tunnel syndrome of the neck is refused in both places with the same words.
"""

from __future__ import annotations

from dataclasses import dataclass

from palpate.core.errors import InputError
from palpate.core.kb.clinical import ICD10_PATTERN, ConditionSpec, Icd10Prefix, knowledge_base


def allowed_regions(condition: str) -> tuple[str, ...]:
    """The regions a condition can occur at, in the knowledge base's order."""
    return _spec(condition).regions


def condition_region_problem(condition: str, region: str) -> str | None:
    """Why a condition cannot be at a region, in words that list the regions allowed; None if it can."""
    allowed = allowed_regions(condition)
    if region in allowed:
        return None
    return (f"{condition} is not planned at the {region}: it can occur only at {', '.join(allowed)} "
            "(planning policy §2). Choose one of these regions, or the condition that fits.")


def check_condition_region(condition: str, region: str, path: str = "region") -> None:
    """InputError (``invalid_value`` at ``path``) unless the condition can occur at the region."""
    problem = condition_region_problem(condition, region)
    if problem is not None:
        raise InputError("invalid_value", problem, path)


@dataclass(frozen=True, slots=True)
class Icd10Fit:
    """Whether an ICD-10-CM code fits a condition's family, and what would fit."""

    code: str
    fits: bool
    checked: bool  # False when the knowledge base has no family for the condition
    family: tuple[Icd10Prefix, ...]
    message: str


def icd10_fit(condition: str, code: str) -> Icd10Fit:
    """Does ``code`` belong to the condition's ICD-10-CM family (conditions.yaml ``icd10_family``)?

    The message says what fits, with facts.md's status for each family (check UNVERIFIED ones
    against the current CMS code set). A condition without a family in the knowledge base is not
    checked: ``checked`` is False and ``fits`` True, and the message says so.
    """
    spec = _spec(condition)
    normal = normalise_icd10(code)
    family = spec.icd10_family
    if not family:
        return Icd10Fit(normal, True, False, family, f"The knowledge base has no ICD-10-CM family for {condition}: "
                                                      "the code is not checked.")
    if any(normal.startswith(entry.prefix) for entry in family):
        return Icd10Fit(normal, True, True, family, f"{normal} fits {condition}.")
    listed = "; ".join(f"{entry.prefix}… {entry.label}" + (" (UNVERIFIED)" if entry.status == "UNVERIFIED" else "")
                       for entry in family)
    return Icd10Fit(normal, False, True, family,
                    f"{normal} is not a code for {condition}: use a code starting {listed}.")


def normalise_icd10(code: str, path: str = "icd10") -> str:
    """An ICD-10-CM code in its written form (upper case, with its dot); InputError if it is not one."""
    text = code.strip().upper() if isinstance(code, str) else ""
    if "." not in text and len(text) > 3:
        text = f"{text[:3]}.{text[3:]}"
    if not ICD10_PATTERN.match(text):
        raise InputError("invalid_value", f"{code!r} is not an ICD-10-CM code: a letter, two characters, then "
                                          "optionally a dot and up to four more (e.g. M54.50, S39.012A)", path)
    return text


def check_episode(condition: str, region: str, icd10: str | None = None) -> None:
    """InputError naming the field to fix when an episode's region or ICD-10-CM code does not fit."""
    _spec(condition, "condition")
    check_condition_region(condition, region, "region")
    if icd10:
        fit = icd10_fit(condition, icd10)
        if not fit.fits:
            raise InputError("invalid_value", fit.message, "icd10")


def _spec(condition: str, path: str = "condition") -> ConditionSpec:
    spec = knowledge_base().conditions.get(condition)
    if spec is None:
        raise InputError("unknown_code", f"{condition!r} is not a known condition; expected one of: "
                         + ", ".join(knowledge_base().conditions), path)
    return spec

