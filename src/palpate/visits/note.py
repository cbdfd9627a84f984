"""The visit note as typed: bind the form, screen it, bill it, check its rows, and say what a
save writes. The note page, its live partial and the demo seed all go through here, so what is
screened and billed cannot differ between them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.http import QueryDict
from django.utils import timezone

from palpate.clinics.actor import Actor
from palpate.clinics.roles import SAFETY_OVERRIDE
from palpate.patients.models import Patient
from palpate.visits import services
from palpate.visits.billing import compute_billing
from palpate.visits.forms import ROW_FORMS, RowSet, VisitNoteForm
from palpate.visits.models import Visit
from palpate.visits.safety import RowCheck, check_rows, row_key, screen_error, screen_visit


@dataclass
class NoteState:
    form: VisitNoteForm
    rows: dict[str, RowSet]
    screen: dict[str, Any]
    billing: dict[str, Any]
    check: RowCheck | None
    screen_problem: str = ""
    notices: list[tuple[str, str]] = field(default_factory=list)  # (level, text) shown above the form
    stale: dict[str, Any] | None = None

    def row_status(self) -> dict[str, dict[str, Any]]:
        """Per treatment row key: blocking breaches, overrides in force, a refused override."""
        out: dict[str, dict[str, Any]] = {}
        if self.check is None:
            return out
        for key, found in self.check.blocking.items():
            out.setdefault(key, {})["blocking"] = [b.message for b in found]
        for key, pairs in self.check.overridden.items():
            out.setdefault(key, {})["overridden"] = [(b.message, reason) for b, reason in pairs]
        for key, why in self.check.refused.items():
            out.setdefault(key, {})["refused"] = why
        return out


def stored_state(visit: Visit) -> NoteState:
    treatments, complementary = services.stored_rows(visit)
    reasons = {tuple(o["row_key"]): o["reason"] for o in visit.overrides or [] if "row_key" in o}
    for row in treatments:
        row["override_reason"] = reasons.get(row_key(row), "")
    local = [{"code": f["code"], "region": f.get("region"), "side": f.get("side") or "",
              "days_ago": f.get("days_ago"), "closed": {True: "yes", False: "no"}.get(f.get("closed"), "")}
             for f in visit.findings or [] if f.get("region")]
    rom = [{"measure": f"{m.get('joint')}:{m.get('motion')}", "side": m.get("side") or "", "degrees": m.get("degrees")}
           for m in visit.rom or []]
    rows = {"t": RowSet("t", initial=treatments), "c": RowSet("c", initial=complementary),
            "f": RowSet("f", initial=local), "rom": RowSet("rom", initial=rom)}
    # Stored rows get the prefixes t-0, t-1...: key the check by the bare index, as RowForm.key does.
    check = check_rows([(f"{i}", row, "") for i, row in enumerate(treatments)], visit.screen_result,
                       visit.overrides or [], False, None, timezone.now())
    return NoteState(VisitNoteForm(instance=visit), rows, visit.screen_result or {}, visit.billing or {}, check,
                     screen_problem=screen_error(visit.screen_result))


@dataclass
class Typed:
    """The note form as typed (bound), with what could be read from it."""

    data: QueryDict
    form: VisitNoteForm
    rows: dict[str, RowSet]
    valid: bool
    findings: list[dict[str, Any]] | None  # None when the findings could not be read
    vitals: dict[str, Any] | None


def read_typed(posted: QueryDict, visit: Visit) -> Typed:
    """Bind the note form and its row tables to what was posted, and read what can be read."""
    data = posted.copy()
    form = VisitNoteForm(data, instance=visit)
    rows = {kind: RowSet(kind, data=data) for kind in ROW_FORMS}
    form_valid = form.is_valid()
    rows_valid = {kind: rowset.is_valid() for kind, rowset in rows.items()}
    findings = vitals = None
    if rows_valid["f"] and "whole_body_findings" not in form.errors:
        findings = [{"code": code} for code in form.cleaned_data.get("whole_body_findings", [])]
        findings += [f.finding() for f in rows["f"].used()]  # type: ignore[attr-defined]
    vital_errors = {"temperature_c", "bp_systolic", "bp_diastolic"} & set(form.errors)
    if not vital_errors:
        vitals = form.vitals()
    return Typed(data, form, rows, form_valid and all(rows_valid.values()), findings, vitals)


def typed_rows(typed: Typed, kind: str) -> list[tuple[str, dict[str, Any], str]]:
    """(key, row, typed override reason) for the valid rows of one table."""
    out = []
    for form in typed.rows[kind].used():
        if form.is_valid():
            row = form.row()  # type: ignore[attr-defined]
            out.append((form.key, row, form.cleaned_data.get("override_reason", "") if kind == "t" else ""))
    return out


def preview(visit: Visit, typed: Typed) -> Visit:
    """The visit as typed (unsaved), for the screen: soreness feeds the dose, findings/vitals the screen."""
    preview = Visit(pk=visit.pk, clinic_id=visit.clinic_id, visit_date=visit.visit_date,
                    findings=visit.findings if typed.findings is None else typed.findings,
                    vitals=visit.vitals if typed.vitals is None else typed.vitals)
    for name in ("soreness_since_last", "soreness_hours", "relief"):
        typed_ok = name not in typed.form.errors and hasattr(typed.form, "cleaned_data")
        setattr(preview, name, typed.form.cleaned_data.get(name) if typed_ok else getattr(visit, name))
    preview.relief = preview.relief or ""
    return preview


def typed_state(actor: Actor, patient: Patient, visit: Visit, typed: Typed) -> NoteState:
    """Screen, billing and row checks for the note as typed (nothing is saved)."""
    screen = screen_visit(actor.clinic, patient, visit.episode, preview(visit, typed),
                          services.latest_evaluation(visit.episode))
    treatments = typed_rows(typed, "t")
    complementary = [row for _, row, _ in typed_rows(typed, "c")]
    billing = compute_billing([row for _, row, _ in treatments], complementary, actor.clinic.payer_unit_rule,
                              visit.episode.payer)
    check = check_rows(treatments, screen, visit.overrides or [], actor.can(SAFETY_OVERRIDE), actor.user,
                       timezone.now())
    return NoteState(typed.form, typed.rows, screen, billing, check, screen_problem=screen_error(screen))


def note_changes(actor: Actor, visit: Visit, typed: Typed, state: NoteState) -> services.NoteChanges:
    """What a save writes, from a valid typed note and its state.

    When a treatment row breaks today's screen (without an override) the treatment rows are left
    out (``treatments=None``): the note, findings and complementary rows are still saved, so a new
    contraindication is on record at once, and billing stays on the rows already stored.
    """
    assert state.check is not None
    rows_ok = state.check.ok
    form = typed.form
    values = {name: form.cleaned_data.get(name) for name in form.Meta.fields}
    values["relief"] = values.get("relief") or ""
    values["findings"] = typed.findings or []
    values["vitals"] = typed.vitals or {}
    values["rom"] = [f.measurement() for f in typed.rows["rom"].used()]  # type: ignore[attr-defined]
    treatments = [row for _, row, _ in typed_rows(typed, "t")]
    complementary = [row for _, row, _ in typed_rows(typed, "c")]
    billed_treatments = treatments if rows_ok else services.stored_rows(visit)[0]
    billing = compute_billing(billed_treatments, complementary, actor.clinic.payer_unit_rule, visit.episode.payer)
    return services.NoteChanges(
        values=values, treatments=treatments if rows_ok else None, complementary=complementary,
        screen=state.screen, billing=billing, overrides=state.check.overrides if rows_ok else None,
        new_overrides=state.check.new_overrides if rows_ok else [])
