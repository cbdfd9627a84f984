"""The evaluation page's forms: one main form and four row tables, checked twice.

Django checks the shapes first (numbers are numbers, choices are known, a row's side fits its
place by the core's side rule). ``EvaluationEditor.typed`` then gives the evaluation as typed
(``services.EvaluationInput``), and ``services.check_evaluation`` screens it with the clinical
core; an ``InputError`` from the core (a temperature of 80 °C) is put back by
``EvaluationEditor.place_error`` on the field the person typed it in, with the core's own message.
The forms never run the screen.

Decisions (the issue left them open):
- Rows (ROM, pain map, palpation, local findings) are formsets with a few blank rows; a row left
  entirely blank is no row, and "Remove" drops a row. Without JavaScript "Add a row" re-renders the
  page with one more blank row; with htmx it fetches just the row.
- Whole-body findings are a checklist; local findings are rows (finding, region or group, side),
  because one finding can sit at several sites (two wounds).
- ``days_ago`` and ``closed`` are asked only for the findings that take them (vocabulary.md:
  ``recent_fracture`` with ``days_ago``, ``surgical_incision`` with both).
- A Wells score needs its version and the symptomatic leg; an Ottawa rule its side. Ticking any
  Ottawa answer counts as having applied the rule, so a typed answer is never silently dropped;
  "applied" with nothing ticked records a negative rule.
- Evaluation complexity may be left partly answered on a draft; the code is suggested once all four
  components are answered (the core decides it, and says why).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from typing import Any

from django import forms
from django.forms import formset_factory
from django.utils import timezone

from palpate.core.billing import EvaluationAssessment, assess_evaluation
from palpate.core.errors import InputError
from palpate.core.kb.clinical import knowledge_base
from palpate.core.measures import percent_of_normal
from palpate.core.measures.rom import check_rom
from palpate.core.request import vitals_problems
from palpate.evaluations.models import POSTURE_FINDINGS, Evaluation, Irritability
from palpate.evaluations.services import EvaluationInput
from palpate.lib import vocabulary
from palpate.lib.clinical import aged_findings
from palpate.lib.vocabulary import CLOSED_CHOICES, FINDINGS_WITH_CLOSED, FINDINGS_WITH_DAYS, rom_movements

PAIN_QUALITIES = [
    ("aching", "Aching"), ("sharp", "Sharp"), ("burning", "Burning"),
    ("tingling", "Tingling"), ("throbbing", "Throbbing"), ("stiff", "Stiff"),
]
TONES = [("normal", "Normal"), ("increased", "Increased"), ("decreased", "Decreased"), ("spasm", "Spasm")]
WELLS_VERSIONS = [("", "Not done"), ("2003", "Wells 2003 (DVT likely / unlikely)"),
                  ("1997", "Wells 1997 (low / intermediate / high)")]
OTTAWA_RULES = ("ottawa_ankle", "ottawa_foot")
# Count buckets of the 97161-97163 components; the value is the smallest count of the bucket,
# which is what the core's thresholds compare.
HISTORY_CHOICES = [("", "Not assessed yet"), ("0", "None"), ("1", "1-2"), ("3", "3 or more")]
EXAMINATION_CHOICES = [("", "Not assessed yet"), ("1", "1-2"), ("3", "3"), ("4", "4 or more")]
PRESENTATION_CHOICES = [("", "Not assessed yet"), ("stable", "Stable, uncomplicated"),
                        ("evolving", "Evolving, changing characteristics"), ("unstable", "Unstable, unpredictable")]
DECISION_CHOICES = [("", "Not assessed yet"), ("low", "Low"), ("moderate", "Moderate"), ("high", "High")]
COMPLEXITY_FIELDS = {"history": "complexity_history", "examination": "complexity_examination",
                     "presentation": "complexity_presentation", "decision": "complexity_decision"}
# How many rows each table shows at least (blank rows are ignored on save).
MIN_ROWS = {"rom": 2, "pain": 3, "palp": 2, "find": 2}


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


def ottawa_fields(rule: str) -> tuple[str, ...]:
    """The rule's zone question, then its criteria (the contract's field names)."""
    spec = knowledge_base().ottawa[rule]
    return (spec.zone, *spec.criteria)


def ottawa_label(rule: str) -> str:
    return vocabulary.label(rule, "screen")


def _compact(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if v not in (None, "")}


# --- rows ----------------------------------------------------------------------------------------


class RowForm(forms.Form):
    """One row of a table. A row left entirely blank is not a row; ``as_json`` is None for it."""

    # Fields that alone do not make a row (a default a person did not choose).
    defaults_only: tuple[str, ...] = ()

    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", None) or {}
        return not any(v not in (None, "", False, []) for k, v in data.items()
                       if k not in ("DELETE", *self.defaults_only))

    def removed(self) -> bool:
        return bool((getattr(self, "cleaned_data", None) or {}).get("DELETE"))

    def as_json(self) -> dict[str, Any] | None:
        if not self.is_valid() or self.is_blank() or self.removed():
            return None
        return self.row_json()

    def row_json(self) -> dict[str, Any]:
        raise NotImplementedError


class RomRowForm(RowForm):
    movement = forms.ChoiceField(label="Joint and motion", choices=(), required=False)
    side = forms.ChoiceField(label="Side", choices=vocabulary.side_choices(), required=False)
    degrees = forms.IntegerField(label="Degrees", required=False,
                                 widget=forms.NumberInput(attrs={"inputmode": "numeric", "step": "1"}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["movement"].choices = [("", "Choose a movement…"), *vocabulary.rom_choices()]
        self.percent: float | None = None
        self.percent_note = ""

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.is_blank() or self.removed():
            return data
        movement, degrees = data.get("movement"), data.get("degrees")
        if not movement:
            # Every error of the row in one round: the missing range too, not only the motion.
            self.add_error("movement", "Choose the joint and motion measured.")
            if degrees is None and "degrees" not in self.errors:
                self.add_error("degrees", "Enter the measured range in degrees.")
            return data
        joint, motion, _ = rom_movements()[movement]
        vocabulary.check_side(self, joint, data.get("side"))
        if degrees is None:
            if "degrees" not in self.errors:
                self.add_error("degrees", "Enter the measured range in degrees.")
            return data
        try:
            # Beyond the motion's physiological limit is a typing error (350 for 150), never a
            # percentage of normal: refused here with the limit named, what was typed kept.
            check_rom(joint, motion, degrees)
            self.percent = percent_of_normal(joint, motion, degrees)
        except InputError as error:
            if error.code == "not_applicable":
                # Knee extension: normal is 0 degrees, so the shortfall in degrees is the measure.
                self.percent_note = error.message
            else:
                self.add_error("degrees" if error.path == "degrees" else "movement", error.message)
        return data

    def percent_display(self) -> str:
        """The core's percent of normal for this row, as the table shows it ("" when not measured yet)."""
        if self.is_bound:
            if self.errors or self.is_blank():  # cleaning asks the core (see clean)
                return ""
            percent, note = self.percent, self.percent_note
        else:
            movement, degrees = self.initial.get("movement"), self.initial.get("degrees")
            if movement not in rom_movements() or degrees is None:
                return ""
            joint, motion, _ = rom_movements()[movement]
            percent, note = None, ""
            try:
                percent = percent_of_normal(joint, motion, degrees)
            except InputError as error:
                note = error.message
        if percent is not None:
            return f"{percent:.0f}% of normal"
        return "not applicable: normal is 0°, record the shortfall in degrees" if note else ""

    def row_json(self) -> dict[str, Any]:
        data = self.cleaned_data
        joint, motion, _ = rom_movements()[data["movement"]]
        # The percent of normal is added where the evaluation is checked (services.check_evaluation).
        return {"joint": joint, "motion": motion, **_compact({"side": data.get("side")}), "degrees": data["degrees"]}

    @staticmethod
    def initial_from(row: Mapping[str, Any]) -> dict[str, Any]:
        return {"movement": f"{row.get('joint')}:{row.get('motion')}", "side": row.get("side") or "",
                "degrees": row.get("degrees")}


class BodyRegionRowForm(RowForm):
    """A row about one body region (pain map, palpation): region required, side where paired."""

    region = forms.ChoiceField(label="Region", choices=(), required=False)
    side = forms.ChoiceField(label="Side", choices=vocabulary.side_choices(), required=False)
    missing_region = "Choose the region (or clear the row)."

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = [vocabulary.CHOOSE, *vocabulary.region_choices()]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.is_blank() or self.removed():
            return data
        if not data.get("region"):
            self.add_error("region", self.missing_region)
            return data
        vocabulary.check_side(self, data["region"], data.get("side"))
        return data


class PainRowForm(BodyRegionRowForm):
    missing_region = "Choose the painful region (or clear the row)."
    intensity = forms.IntegerField(label="Intensity (0-10)", min_value=0, max_value=10, required=False,
                                   widget=forms.NumberInput(attrs={"inputmode": "numeric", "step": "1"}))
    quality = forms.ChoiceField(label="Quality", choices=[("", "—"), *PAIN_QUALITIES], required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.is_blank() or self.removed():
            return data
        # Asked even when the region is missing too, so both come back in one round.
        if data.get("intensity") is None and "intensity" not in self.errors:
            self.add_error("intensity", "Give the pain intensity at this region, 0 to 10.")
        return data

    def row_json(self) -> dict[str, Any]:
        d = self.cleaned_data
        return _compact({"region": d["region"], "side": d.get("side"), "intensity": d["intensity"],
                         "quality": d.get("quality")})

    @staticmethod
    def initial_from(row: Mapping[str, Any]) -> dict[str, Any]:
        return {"region": row.get("region"), "side": row.get("side") or "", "intensity": row.get("intensity"),
                "quality": row.get("quality") or ""}


class PalpationRowForm(BodyRegionRowForm):
    missing_region = "Choose the region palpated (or clear the row)."
    tone = forms.ChoiceField(label="Tone", choices=TONES, required=False, initial="normal")
    tender = forms.BooleanField(label="Tender", required=False)
    trigger_points = forms.IntegerField(label="Trigger points", min_value=0, max_value=50, required=False,
                                        widget=forms.NumberInput(attrs={"inputmode": "numeric", "step": "1"}))
    defaults_only = ("tone",)

    def is_blank(self) -> bool:
        # A row with only a tone other than normal was typed on purpose.
        data = getattr(self, "cleaned_data", None) or {}
        return super().is_blank() and data.get("tone") in (None, "", "normal")

    def row_json(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {"region": d["region"], **_compact({"side": d.get("side")}), "tone": d.get("tone") or "normal",
                "tender": bool(d.get("tender")), "trigger_points": d.get("trigger_points") or 0}

    @staticmethod
    def initial_from(row: Mapping[str, Any]) -> dict[str, Any]:
        return {"region": row.get("region"), "side": row.get("side") or "", "tone": row.get("tone") or "normal",
                "tender": bool(row.get("tender")), "trigger_points": row.get("trigger_points")}


class LocalFindingRowForm(RowForm):
    code = forms.ChoiceField(label="Finding", choices=(), required=False)
    region = forms.ChoiceField(label="Region or group", choices=(), required=False)
    side = forms.ChoiceField(label="Side", choices=vocabulary.side_choices(), required=False)
    days_ago = forms.IntegerField(label="Days ago", required=False,
                                  widget=forms.NumberInput(attrs={"inputmode": "numeric", "step": "1"}),
                                  help_text="Fracture or incision only.")
    closed = forms.ChoiceField(label="Incision closed?", choices=CLOSED_CHOICES, required=False)
    cleared = forms.BooleanField(label=vocabulary.CLEARED_LABEL, required=False,
                                 help_text="A DVT, fracture or incision the physician has cleared: it no longer restricts.")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["code"].choices = [("", "Choose a finding…"), *vocabulary.finding_choices("local")]
        self.fields["region"].choices = [vocabulary.CHOOSE, *vocabulary.site_choices()]
        # "carried forward from the evaluation of ..." for a row a re-evaluation starts with.
        self.carried_from = str(self.initial.get("carried_from") or "")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.is_blank() or self.removed():
            return data
        code = data.get("code")
        if not code:
            self.add_error("code", "Choose which finding this row records (or clear the row).")
            if not data.get("region") and "region" not in self.errors:
                self.add_error("region", "Choose the region or group of this finding.")
            return data
        if not data.get("region"):
            self.add_error("region", f"Where is the {vocabulary.label(code, 'finding').lower()}? Choose the region "
                                     "or group.")
        if data.get("days_ago") is not None and code not in FINDINGS_WITH_DAYS:
            self.add_error("days_ago", "Days ago applies only to a recent fracture or a surgical incision; clear it.")
        if data.get("closed") and code not in FINDINGS_WITH_CLOSED:
            self.add_error("closed", "Closed applies only to a surgical incision; clear it.")
        if problem := vocabulary.cleared_problem(code, data.get("cleared")):
            self.add_error("cleared", problem)
        vocabulary.check_side(self, data.get("region"), data.get("side"))
        return data

    def row_json(self) -> dict[str, Any]:
        d = self.cleaned_data
        closed = {"yes": True, "no": False}.get(d.get("closed") or "")
        return _compact({"code": d["code"], "region": d.get("region"), "side": d.get("side"),
                         "days_ago": d.get("days_ago"), "closed": closed, "cleared": True if d.get("cleared") else None})

    @staticmethod
    def initial_from(row: Mapping[str, Any]) -> dict[str, Any]:
        closed = {True: "yes", False: "no"}.get(row.get("closed"), "")  # type: ignore[call-overload]
        return {"code": row.get("code"), "region": row.get("region"), "side": row.get("side") or "",
                "days_ago": row.get("days_ago"), "closed": closed, "cleared": bool(row.get("cleared")),
                "carried_from": row.get("carried_from") or ""}


ROW_FORMS: dict[str, type[RowForm]] = {
    "rom": RomRowForm, "pain": PainRowForm, "palp": PalpationRowForm, "find": LocalFindingRowForm,
}
ROW_TITLES = {"rom": "range of motion", "pain": "pain map", "palp": "palpation", "find": "local finding"}


class RowFormSet(forms.BaseFormSet):
    def add_fields(self, form: forms.Form, index: int | None) -> None:
        super().add_fields(form, index)
        form.fields["DELETE"].label = "Remove"


def row_formset(kind: str, data: Any = None, rows: Iterable[Mapping[str, Any]] = ()) -> Any:
    form_class = ROW_FORMS[kind]
    initial = [form_class.initial_from(r) for r in rows]  # type: ignore[attr-defined]
    extra = max(1, MIN_ROWS[kind] - len(initial))
    formset_class = formset_factory(form_class, formset=RowFormSet, extra=extra, can_delete=True)
    return formset_class(data, initial=initial or None, prefix=kind)


def blank_row(kind: str, index: int, initial: Mapping[str, Any] | None = None, data: Any = None) -> RowForm:
    """Row ``index`` of a table on its own (htmx partials): unbound and pre-filled with ``initial``
    ("add a row"), or bound to ``data`` (a row re-checked as it is typed)."""
    formset = formset_factory(ROW_FORMS[kind], formset=RowFormSet, extra=0, can_delete=True)(data, prefix=kind)
    form = formset._construct_form(index, **({} if data is not None else {"initial": dict(initial or {})}))
    return form  # type: ignore[no-any-return]


# --- the main form -------------------------------------------------------------------------------


class EvaluationForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    performed_on = forms.DateField(label="Date of evaluation", widget=DateInput(),
                                   error_messages={"required": "Enter the date of the evaluation.",
                                                   "invalid": "Enter the date as YYYY-MM-DD."})
    chief_complaint = forms.CharField(label="Chief complaint", required=False,
                                      widget=forms.Textarea(attrs={"rows": 2}))
    history = forms.CharField(label="History of the present condition", required=False,
                              widget=forms.Textarea(attrs={"rows": 4}),
                              help_text="Onset, mechanism, course, aggravating and easing factors, past episodes.")
    patient_goals = forms.CharField(label="Patient's goals", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    posture_findings = forms.MultipleChoiceField(label="Posture findings", choices=POSTURE_FINDINGS, required=False,
                                                 widget=forms.CheckboxSelectMultiple)
    posture_notes = forms.CharField(label="Posture notes", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    pain_nprs = forms.IntegerField(label="Pain now (NPRS, 0-10)", min_value=0, max_value=10, required=False,
                                   widget=forms.NumberInput(attrs={"inputmode": "numeric", "step": "1"}))
    palpation_notes = forms.CharField(label="Palpation notes", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    irritability = forms.ChoiceField(
        label="Irritability", required=False,
        choices=[("", "Not set: Palpate derives it from onset and pain"), *Irritability.choices])  # labels: vocabulary
    whole_body_findings = forms.MultipleChoiceField(label="Whole-body findings", choices=(), required=False,
                                                    widget=forms.CheckboxSelectMultiple)
    whole_body_cleared = forms.MultipleChoiceField(
        label=f"Whole-body findings {vocabulary.CLEARED_LABEL.lower()}", choices=(), required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="A recent trauma the physician has cleared: recorded as cleared, it no longer restricts.")
    # A re-evaluation starts from the last signed evaluation's findings and vitals: they are to be
    # confirmed, changed or cleared, and saving says that was done.
    carried_reviewed = forms.BooleanField(label="I have reviewed the findings and vitals carried forward", required=False)
    temperature_c = forms.FloatField(label="Temperature (°C)", required=False,
                                     widget=forms.NumberInput(attrs={"step": "0.1", "inputmode": "decimal"}))
    bp_systolic = forms.IntegerField(label="Blood pressure, systolic (mmHg)", required=False,
                                     widget=forms.NumberInput(attrs={"inputmode": "numeric"}))
    bp_diastolic = forms.IntegerField(label="Blood pressure, diastolic (mmHg)", required=False,
                                      widget=forms.NumberInput(attrs={"inputmode": "numeric"}))
    wells_version = forms.ChoiceField(label="Wells DVT score", choices=WELLS_VERSIONS, required=False)
    wells_side = forms.ChoiceField(label="Symptomatic leg", choices=vocabulary.side_choices(), required=False)
    wells_items = forms.MultipleChoiceField(label="Wells criteria present", choices=(), required=False,
                                            widget=forms.CheckboxSelectMultiple)
    complexity_history = forms.ChoiceField(label="History: personal factors and comorbidities affecting the plan",
                                           choices=HISTORY_CHOICES, required=False)
    complexity_examination = forms.ChoiceField(label="Examination: body systems and elements examined",
                                               choices=EXAMINATION_CHOICES, required=False)
    complexity_presentation = forms.ChoiceField(label="Clinical presentation", choices=PRESENTATION_CHOICES,
                                                required=False)
    complexity_decision = forms.ChoiceField(label="Clinical decision-making", choices=DECISION_CHOICES, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["whole_body_findings"].choices = vocabulary.finding_choices("whole_body")
        self.fields["whole_body_cleared"].choices = vocabulary.cleared_choices("whole_body")
        self.fields["wells_items"].choices = vocabulary.wells_item_choices()
        # Set by the editor when this evaluation starts from an earlier one (the date, in words).
        self.carried_from = ""
        for rule in OTTAWA_RULES:
            self.fields[f"{rule}_done"] = forms.BooleanField(label=f"{ottawa_label(rule)} applied", required=False)
            self.fields[f"{rule}_side"] = forms.ChoiceField(label="Side examined", choices=vocabulary.side_choices(), required=False)
            for name in ottawa_fields(rule):
                self.fields[f"{rule}_{name}"] = forms.BooleanField(label=vocabulary.label(name), required=False)

    def ottawa_bound_fields(self, rule: str) -> list[forms.BoundField]:
        return [self[f"{rule}_{name}"] for name in ottawa_fields(rule)]

    def clean_performed_on(self) -> dt.date:
        performed_on: dt.date = self.cleaned_data["performed_on"]
        if performed_on > timezone.localdate():
            raise forms.ValidationError("The evaluation date is in the future; check the date.")
        return performed_on

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.carried_from and not data.get("carried_reviewed") and not self.data.get("check"):
            self.add_error("carried_reviewed", f"This evaluation starts from the one of {self.carried_from}: confirm, "
                                               "change or clear each finding and vital carried forward, then tick this "
                                               "box. Nothing was saved; nothing you typed is lost.")
        if (data.get("wells_items") or data.get("wells_side")) and not data.get("wells_version"):
            self.add_error("wells_version", "Choose the Wells version (1997 or 2003) for the answers you gave, "
                                            "or clear them.")
        if data.get("wells_version") and not data.get("wells_side"):
            self.add_error("wells_side", "Choose the symptomatic leg the Wells score is for.")
        for rule in OTTAWA_RULES:
            answered = any(data.get(f"{rule}_{name}") for name in ottawa_fields(rule)) or data.get(f"{rule}_side")
            if answered:
                data[f"{rule}_done"] = True
            if data.get(f"{rule}_done") and not data.get(f"{rule}_side"):
                self.add_error(f"{rule}_side", f"Choose the side the {ottawa_label(rule)} was applied to.")
        return data

    # The contract's shapes -------------------------------------------------------------------------

    def vitals(self) -> dict[str, Any]:
        d = self.cleaned_data
        return _compact({"temperature_c": d.get("temperature_c"), "bp_systolic": d.get("bp_systolic"),
                         "bp_diastolic": d.get("bp_diastolic")})

    def screens(self) -> dict[str, Any]:
        d = self.cleaned_data
        screens: dict[str, Any] = {}
        if d.get("wells_version"):
            screens["wells"] = {"version": d["wells_version"], **_compact({"side": d.get("wells_side")}),
                                "items": list(d.get("wells_items") or [])}
        for rule in OTTAWA_RULES:
            if d.get(f"{rule}_done"):
                screens[rule] = {**_compact({"side": d.get(f"{rule}_side")}),
                                 **{name: bool(d.get(f"{rule}_{name}")) for name in ottawa_fields(rule)}}
        return screens

    def complexity(self) -> dict[str, Any]:
        d = self.cleaned_data
        out: dict[str, Any] = {}
        for key, name in COMPLEXITY_FIELDS.items():
            value = d.get(name)
            if value not in (None, ""):
                out[key] = int(value) if key in ("history", "examination") else value
        return out

    @staticmethod
    def initial_from(evaluation: Evaluation) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "version": evaluation.version, "performed_on": evaluation.performed_on,
            "chief_complaint": evaluation.chief_complaint, "history": evaluation.history,
            "patient_goals": evaluation.patient_goals, "posture_findings": list(evaluation.posture_findings or []),
            "posture_notes": evaluation.posture_notes, "pain_nprs": evaluation.pain_nprs,
            "palpation_notes": evaluation.palpation_notes, "irritability": evaluation.irritability,
            "whole_body_findings": [f["code"] for f in evaluation.findings or []
                                    if not f.get("region") and not f.get("cleared")],
            "whole_body_cleared": [f["code"] for f in evaluation.findings or [] if not f.get("region") and f.get("cleared")],
            **(evaluation.vitals or {}),
        }
        screens = evaluation.screens or {}
        if wells := screens.get("wells"):
            initial.update(wells_version=str(wells.get("version", "")), wells_side=wells.get("side") or "",
                           wells_items=list(wells.get("items") or []))
        for rule in OTTAWA_RULES:
            if (answers := screens.get(rule)) is not None:
                initial[f"{rule}_done"] = True
                initial[f"{rule}_side"] = answers.get("side") or ""
                initial.update({f"{rule}_{name}": bool(answers.get(name)) for name in ottawa_fields(rule)})
        for key, name in COMPLEXITY_FIELDS.items():
            if key in (evaluation.complexity or {}):
                initial[name] = str(evaluation.complexity[key])
        return initial


# --- the whole page ------------------------------------------------------------------------------

_FINDING_PATH = re.compile(r"^findings\[(\d+)\](?:\.(\w+))?")
VITAL_FIELDS = ("temperature_c", "bp_systolic", "bp_diastolic")
_ROM_PATH = re.compile(r"^rom\[(\d+)\]")


class EvaluationEditor:
    """The main form and the four row tables of one evaluation page, validated as one."""

    def __init__(self, data: Any = None, *, evaluation: Evaluation | None = None,
                 initial: Mapping[str, Any] | None = None, carried: Evaluation | None = None) -> None:
        stored = evaluation
        main_initial = dict(initial or {})
        if stored is not None and stored.pk:
            main_initial = {**EvaluationForm.initial_from(stored), **main_initial}
        local_findings = [f for f in (stored.findings if stored else []) or [] if f.get("region")]
        self.carried = carried
        if carried is not None and (stored is None or not stored.pk):
            # A re-evaluation: the last signed evaluation's findings (aged to today) and vitals,
            # each marked carried forward, to be confirmed, changed or cleared.
            from_when = f"{carried.performed_on:%Y-%m-%d}"
            findings = aged_findings(carried.findings or [], carried.performed_on,
                                     main_initial.get("performed_on") or timezone.localdate())
            whole = [f for f in findings if not f.get("region")]
            main_initial.update({
                "whole_body_findings": [f["code"] for f in whole if not f.get("cleared")],
                "whole_body_cleared": [f["code"] for f in whole if f.get("cleared")],
                **{k: v for k, v in (carried.vitals or {}).items() if k in ("temperature_c", "bp_systolic", "bp_diastolic")},
            })
            local_findings = [{**f, "carried_from": from_when} for f in findings if f.get("region")]
        self.main = EvaluationForm(data, initial=main_initial)
        if carried is not None and (stored is None or not stored.pk):
            self.main.carried_from = f"{carried.performed_on:%Y-%m-%d}"
        self.tables = {
            "rom": row_formset("rom", data, (stored.rom if stored else []) or []),
            "pain": row_formset("pain", data, (stored.pain_map if stored else []) or []),
            "palp": row_formset("palp", data, (stored.palpation if stored else []) or []),
            "find": row_formset("find", data, local_findings),
        }
        # findings[i] of the request -> where it was typed: ("whole_body", code) or ("find", row index)
        self.finding_origins: list[tuple[str, Any]] = []
        self.assessment: EvaluationAssessment | None = None
        self.core_errors: list[str] = []

    # --- validation --------------------------------------------------------------------------------

    def is_valid(self) -> bool:
        results = [self.main.is_valid(), *(t.is_valid() for t in self.tables.values())]
        if results[0]:
            self._assess_complexity()
        self._check_vitals()
        if not getattr(self, "_findings_checked", False):
            # A finding listed twice at one site is an error on its row, named whatever else is wrong.
            self._findings_checked = True
            self.findings()
        return all(results) and not self.main.errors and bool(self.tables["find"].is_valid())

    def _check_vitals(self) -> None:
        """The core's limits on the vitals typed, each on its field, whatever else is still wrong on
        the page: a temperature of 80 °C is named in the same round as a missing date. (The rows
        check their own ranges of motion; the screen needs the whole page valid and runs after.)"""
        main = self.main
        if getattr(self, "_vitals_checked", False):  # is_valid may be asked twice: one message each
            return
        self._vitals_checked = True
        typed = {name: main.cleaned_data.get(name) for name in VITAL_FIELDS
                 if name not in main.errors and main.cleaned_data.get(name) is not None}
        for error in vitals_problems(typed):
            field = error.path.rpartition(".")[2]
            main.add_error(field if field in main.fields else None, error.message)

    def _assess_complexity(self) -> None:
        components = self.main.complexity()
        if len(components) < len(COMPLEXITY_FIELDS):
            return
        try:
            self.assessment = assess_evaluation(**components)
        except InputError as error:
            name = error.path.rsplit(".", 1)[-1]
            self.main.add_error(COMPLEXITY_FIELDS.get(name), error.message)

    def rows(self, kind: str) -> list[dict[str, Any]]:
        return [row for form in self.tables[kind].forms if (row := form.as_json()) is not None]

    def findings(self) -> list[dict[str, Any]]:
        """Whole-body checklist first, then the local rows, remembering where each was typed."""
        self.finding_origins = []
        findings: list[dict[str, Any]] = []
        cleared = list(self.main.cleaned_data.get("whole_body_cleared") or [])
        for code in self.main.cleaned_data.get("whole_body_findings") or []:
            if code in cleared:
                continue
            findings.append({"code": code})
            self.finding_origins.append(("whole_body", code))
        for code in cleared:
            findings.append({"code": code, "cleared": True})
            self.finding_origins.append(("whole_body", code))
        for index, form in enumerate(self.tables["find"].forms):
            row = form.as_json()
            if row is None:
                continue
            if row in findings:
                form.add_error(None, "This finding is already listed at this site; remove one of the rows.")
                continue
            findings.append(row)
            self.finding_origins.append(("find", index))
        return findings

    def typed(self) -> EvaluationInput:
        """The evaluation as typed, in its stored shapes (call after ``is_valid``); nothing is screened here."""
        d = self.main.cleaned_data
        return EvaluationInput(
            performed_on=d["performed_on"], chief_complaint=d.get("chief_complaint", ""),
            history=d.get("history", ""), patient_goals=d.get("patient_goals", ""),
            posture_findings=list(d.get("posture_findings") or []), posture_notes=d.get("posture_notes", ""),
            rom=self.rows("rom"), pain_nprs=d.get("pain_nprs"), pain_map=self.rows("pain"),
            palpation=self.rows("palp"), palpation_notes=d.get("palpation_notes", ""),
            irritability=d.get("irritability") or "", findings=self.findings(),
            vitals=self.main.vitals(), screens=self.main.screens(), complexity=self.main.complexity(),
        )

    def place_error(self, error: InputError) -> None:
        """Put the core's message on the field the fact came from."""
        path, message = error.path, error.message
        main = self.main
        if match := _FINDING_PATH.match(path):
            index, key = int(match.group(1)), match.group(2)
            origin = self.finding_origins[index] if index < len(self.finding_origins) else None
            if origin and origin[0] == "find":
                form = self.tables["find"].forms[origin[1]]
                form.add_error(key if key in form.fields else None, message)
            elif origin:
                main.add_error("whole_body_findings", f"{vocabulary.label(origin[1], 'finding')}: {message}")
            else:
                main.add_error(None, message)
            return
        if match := _ROM_PATH.match(path):
            typed = [form for form in self.tables["rom"].forms if form.as_json() is not None]
            index = int(match.group(1))
            if index < len(typed):
                typed[index].add_error("degrees", message)
            else:
                main.add_error(None, message)
            return
        head, _, rest = path.partition(".")
        if head == "vitals" and rest in main.fields:
            main.add_error(rest, message)
        elif path.startswith("screens.wells"):
            part = path.removeprefix("screens.wells").lstrip(".")
            field = {"version": "wells_version", "side": "wells_side"}.get(part, "wells_items")
            main.add_error(field, message)
        elif path.startswith("screens.ottawa_"):
            rule, _, part = path.removeprefix("screens.").partition(".")
            name = f"{rule}_{part}" if f"{rule}_{part}" in main.fields else f"{rule}_done"
            main.add_error(name, message)
        elif path.startswith("conditions[0].irritability"):
            main.add_error("irritability", message)
        elif path.startswith("conditions[0].pain_nprs"):
            main.add_error("pain_nprs", message)
        elif head.startswith("conditions"):
            main.add_error(None, f"The episode's condition: {message}. Edit the episode to correct it.")
        elif head == "patient":
            main.add_error(None, f"The patient's details: {message}. Edit the patient to correct it.")
        else:
            main.add_error(None, message)

    # --- showing errors ----------------------------------------------------------------------------

    @property
    def has_errors(self) -> bool:
        return bool(self.main.errors) or any(
            t.non_form_errors() or any(f.errors for f in t.forms) for t in self.tables.values())

    def error_links(self) -> list[tuple[str, str]]:
        """(anchor, message) for the error summary, in the order of the page."""
        main = self.main
        links = [("", str(e)) for e in main.non_field_errors()]
        order = ["performed_on", "chief_complaint", "history", "patient_goals", "posture_findings", "posture_notes"]
        tables_after = {"posture_notes": ["rom"], "pain_nprs": ["pain"], "palpation_notes": ["palp"],
                        "whole_body_findings": ["find"]}
        names = order + [n for n in main.fields if n not in order]
        for name in names:
            if name in main.fields:
                anchor = main[name].auto_id
                if isinstance(main.fields[name].widget, forms.CheckboxSelectMultiple):
                    anchor = f"{anchor}_0"
                links += [(anchor, f"{main.fields[name].label}: {e}") for e in main.errors.get(name, [])]
            for kind in tables_after.get(name, []):
                links += self._table_links(kind)
        return links

    def _table_links(self, kind: str) -> list[tuple[str, str]]:
        links = []
        for index, form in enumerate(self.tables[kind].forms):
            for name, errors in form.errors.items():
                anchor = form[name].auto_id if name in form.fields else f"{kind}-row-{index}"
                label = form.fields[name].label if name in form.fields else "Row"
                links += [(anchor, f"{ROW_TITLES[kind].capitalize()} row {index + 1}, {str(label).lower()}: {e}")
                          for e in errors]
        return links


def assess_typed_complexity(data: Mapping[str, Any]) -> tuple[EvaluationAssessment | None, str]:
    """The live complexity suggestion from the four selects alone (the rest of the page may be half typed)."""
    values = {key: str(data.get(name, "") or "") for key, name in COMPLEXITY_FIELDS.items()}
    if not all(values.values()):
        return None, ""
    try:
        return assess_evaluation(int(values["history"]), int(values["examination"]), values["presentation"],
                                 values["decision"]), ""
    except ValueError:
        return None, "Choose the history and examination counts from the lists."
    except InputError as error:
        return None, error.message
