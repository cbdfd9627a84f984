"""Warning signs after a session: what the patient is asked, told to do now, and what the therapist
is advised (``kb/warning_signs.yaml``, validated like every knowledge-base file).

The check-in after a visit asks :func:`signs_to_ask` for the patient's findings; a ticked sign
tells the patient :func:`patient_actions` (the most urgent first) and raises a flag for the treating
therapist with the sign's ``advice`` and its sources.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType

from palpate.core.errors import InputError
from palpate.core.kb import KB_VERSION
from palpate.core.kb.clinical import GRADES, POLICY, STATUSES, URGENCIES, knowledge_base
from palpate.core.kb.loader import load_yaml
from palpate.core.kb.schema import Doc

FILE = "warning_signs.yaml"
ACTIONS = ("emergency", "call_clinic")  # most urgent first
PLACEHOLDERS = ("{clinic_phone}", "{emergency_number}")


@dataclass(frozen=True, slots=True)
class Action:
    code: str
    headline: str
    text: str

    def filled(self, clinic_phone: str, emergency_number: str) -> tuple[str, str]:
        return fill(self.headline, clinic_phone, emergency_number), fill(self.text, clinic_phone, emergency_number)


@dataclass(frozen=True, slots=True)
class WarningSign:
    code: str
    question: str
    therapist_label: str
    action: str
    urgency: str
    sides: bool
    asked_when: tuple[str, ...]
    patient_extra: str
    patient_extra_sources: tuple[str, ...]
    advice: str
    sources: tuple[str, ...]
    evidence: str
    status: str

    def cited(self) -> tuple[str, ...]:
        return knowledge_base().cite(self.sources)


@dataclass(frozen=True, slots=True)
class WarningSigns:
    actions: Mapping[str, Action]
    signs: Mapping[str, WarningSign]


def fill(text: str, clinic_phone: str, emergency_number: str) -> str:
    return text.replace("{clinic_phone}", clinic_phone).replace("{emergency_number}", emergency_number)


@cache
def warning_signs() -> WarningSigns:
    return build(load_yaml(FILE))


def build(data: object) -> WarningSigns:
    doc = Doc(FILE)
    root = doc.mapping(data, "")
    doc.known(root, ("kb_version", "actions", "signs"), "")
    if doc.text(root, "kb_version", "") != KB_VERSION:
        doc.fail("kb_version", f"is {root['kb_version']!r}, but the code expects {KB_VERSION!r}")
    kb = knowledge_base()
    source_ids = frozenset(kb.sources) | {POLICY}
    findings = frozenset(kb.rules)
    actions_node = doc.map_of(root, "actions", "")
    actions: dict[str, Action] = {}
    for code in ACTIONS:
        where = f"actions.{code}"
        node = doc.mapping(actions_node.get(code), where)
        doc.known(node, ("headline", "text"), where)
        actions[code] = Action(code, _placeholders(doc, doc.text(node, "headline", where), f"{where}.headline"),
                               _placeholders(doc, doc.text(node, "text", where), f"{where}.text"))
    doc.known(actions_node, ACTIONS, "actions")
    signs: dict[str, WarningSign] = {}
    for code, node in doc.map_of(root, "signs", "").items():
        where = f"signs.{code}"
        doc.mapping(node, where)
        doc.known(node, ("question", "therapist_label", "action", "urgency", "sides", "asked_when", "patient_extra",
                         "advice", "sources", "evidence", "status"), where)
        action = doc.text(node, "action", where)
        if action not in ACTIONS:
            doc.fail(f"{where}.action", f"must be one of {', '.join(ACTIONS)}")
        urgency = doc.text(node, "urgency", where)
        if urgency not in URGENCIES or urgency == "routine":
            doc.fail(f"{where}.urgency", "must be emergency or same_day: a warning sign is never routine")
        asked_when = doc.codes(node, "asked_when", where, findings, required=False)
        extra_text, extra_sources = "", tuple[str, ...]()
        if node.get("patient_extra") is not None:
            extra = doc.mapping(node["patient_extra"], f"{where}.patient_extra")
            doc.known(extra, ("text", "sources"), f"{where}.patient_extra")
            extra_text = _placeholders(doc, doc.text(extra, "text", f"{where}.patient_extra"),
                                       f"{where}.patient_extra.text")
            extra_sources = _sources(doc, extra, f"{where}.patient_extra", source_ids)
        evidence = doc.text(node, "evidence", where)
        if evidence not in GRADES:
            doc.fail(f"{where}.evidence", f"must be one of {', '.join(GRADES)}")
        status = doc.text(node, "status", where)
        if status not in STATUSES:
            doc.fail(f"{where}.status", f"must be one of {', '.join(STATUSES)}")
        signs[code] = WarningSign(
            code=code, question=doc.text(node, "question", where),
            therapist_label=doc.text(node, "therapist_label", where), action=action, urgency=urgency,
            sides=doc.boolean(node, "sides", where), asked_when=asked_when, patient_extra=extra_text,
            patient_extra_sources=extra_sources, advice=" ".join(doc.text(node, "advice", where).split()),
            sources=_sources(doc, node, where, source_ids), evidence=evidence, status=status)
    if not signs:
        doc.fail("signs", "must list at least one warning sign")
    return WarningSigns(MappingProxyType(actions), MappingProxyType(signs))


def _placeholders(doc: Doc, text: str, where: str) -> str:
    """Only the two known placeholders may appear: a typo would reach the patient as braces."""
    rest = fill(text, "", "")
    if "{" in rest or "}" in rest:
        doc.fail(where, f"unknown placeholder (allowed: {', '.join(PLACEHOLDERS)})")
    return text


def _sources(doc: Doc, node: Mapping[str, object], where: str, source_ids: frozenset[str]) -> tuple[str, ...]:
    cited = doc.codes(node, "sources", where, source_ids)
    if not cited:
        doc.fail(f"{where}.sources", "every warning sign needs a source or the word 'policy'")
    return tuple(cited)


def signs_to_ask(findings: Iterable[str]) -> tuple[WarningSign, ...]:
    """The signs to ask a patient with these findings on record about, in the file's order."""
    have = set(findings)
    return tuple(s for s in warning_signs().signs.values() if not s.asked_when or have & set(s.asked_when))


def sign(code: str) -> WarningSign:
    try:
        return warning_signs().signs[code]
    except KeyError:
        raise InputError("unknown_code", f"{code!r} is not a warning sign Palpate knows", "warning_signs") from None


def patient_actions(codes: Iterable[str]) -> tuple[Action, ...]:
    """What the patient must do now for the ticked signs, the most urgent first, each once."""
    wanted = {sign(code).action for code in codes}
    return tuple(warning_signs().actions[a] for a in ACTIONS if a in wanted)
