"""The visit note's forms: the SOAP fields, today's findings and vitals, and the row tables.

Rows (treatment, complementary, local findings, range of motion) are small forms named
``<kind>-<key>-<field>``. The key is any short token: the server gives new rows a fresh one (the
htmx "add row" button), so there is no management form to keep in step, and rows are taken in the
order the browser sends them (document order). A row left entirely blank is ignored; a row
ticked "Remove" is dropped. Everything typed is re-rendered on any error.
"""

from __future__ import annotations

import copy
import re
import secrets
from collections.abc import Mapping, Sequence
from typing import Any

from django import forms
from django.forms.utils import flatatt
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from palpate.core.errors import InputError
from palpate.core.measures.rom import check_rom
from palpate.core.safety import check_override_reason, item_key
from palpate.lib import vocabulary
from palpate.visits.models import Relief, Response, Visit
from palpate.visits.note import NOTE_FIELDS, Complementary, NoteInput, Treatment

MAX_ROW_MINUTES = 120


# The note has up to a few dozen row widgets with long option lists; rendering each option through
# the template engine made the page cost most of its 100 ms budget. These widgets build the same
# markup in Python (values and labels escaped, attributes via Django's flatatt).


class FastInputMixin:
    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None,
               renderer: Any = None) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]  # type: ignore[attr-defined]
        shown = "" if widget["value"] is None else f' value="{escape(widget["value"])}"'
        return mark_safe(f'<input type="{widget["type"]}" name="{escape(name)}"{shown}{flatatt(widget["attrs"])}>')  # noqa: S308


class FastSelect(forms.Select):
    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None,
               renderer: Any = None) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        parts = [f'<select name="{escape(name)}"{flatatt(widget["attrs"])}>']
        for group, options, _ in widget["optgroups"]:
            if group:
                parts.append(f'<optgroup label="{escape(group)}">')
            for option in options:
                selected = " selected" if option["selected"] else ""
                parts.append(f'<option value="{escape(option["value"])}"{selected}>{escape(option["label"])}</option>')
            if group:
                parts.append("</optgroup>")
        parts.append("</select>")
        return mark_safe("".join(parts))  # noqa: S308


class TextInput(FastInputMixin, forms.TextInput):
    pass


class CheckboxInput(FastInputMixin, forms.CheckboxInput):
    pass


class NumberInput(FastInputMixin, forms.NumberInput):
    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__({"inputmode": "numeric", **(attrs or {})})


class VisitNoteForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    whole_body_findings = forms.MultipleChoiceField(
        label="Whole-body findings today", required=False, widget=forms.CheckboxSelectMultiple, choices=())
    whole_body_cleared = forms.MultipleChoiceField(
        label=f"Whole-body findings {vocabulary.CLEARED_LABEL.lower()}", required=False,
        widget=forms.CheckboxSelectMultiple, choices=())
    temperature_c = forms.DecimalField(label="Temperature (°C)", required=False, min_value=30, max_value=45,
                                       decimal_places=1, widget=forms.NumberInput(attrs={"step": "0.1"}))
    bp_systolic = forms.IntegerField(label="Blood pressure, systolic (mmHg)", required=False, min_value=50,
                                     max_value=300, widget=NumberInput())
    bp_diastolic = forms.IntegerField(label="Blood pressure, diastolic (mmHg)", required=False, min_value=20,
                                      max_value=200, widget=NumberInput())

    class Meta:
        model = Visit
        fields = ["subjective", "soreness_since_last", "soreness_hours", "relief", "objective", "nprs_before",
                  "nprs_after", "assessment", "plan_text"]
        labels = {
            "subjective": "Subjective: what the patient reports",
            "soreness_since_last": "Soreness after the last visit (0-10)",
            "soreness_hours": "How long the soreness lasted (hours)",
            "relief": "Relief since the last visit",
            "objective": "Objective: what you observed and measured",
            "nprs_before": "Pain before treatment, NPRS (0-10)",
            "nprs_after": "Pain after treatment, NPRS (0-10)",
            "assessment": "Assessment",
            "plan_text": "Plan",
        }
        help_texts = {
            "soreness_since_last": "It changes the rows carried forward from the last visit (lower pressure; after "
                                   "severe soreness no friction or trigger point), by your clinic's thresholds.",
            "soreness_hours": "",
        }
        widgets = {
            "subjective": forms.Textarea(attrs={"rows": 3}),
            "objective": forms.Textarea(attrs={"rows": 3}),
            "assessment": forms.Textarea(attrs={"rows": 3}),
            "plan_text": forms.Textarea(attrs={"rows": 2}),
            "relief": forms.RadioSelect,
            "soreness_since_last": NumberInput(attrs={"min": 0, "max": 10}),
            "soreness_hours": NumberInput(attrs={"min": 0, "max": 336}),
            "nprs_before": NumberInput(attrs={"min": 0, "max": 10}),
            "nprs_after": NumberInput(attrs={"min": 0, "max": 10}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["whole_body_findings"].choices = vocabulary.finding_choices("whole_body")
        self.fields["whole_body_cleared"].choices = vocabulary.cleared_choices("whole_body")
        self.fields["relief"].choices = [("", "Not asked"), *Relief.choices]
        if not self.is_bound:
            vitals = self.instance.vitals or {}
            for name in ("temperature_c", "bp_systolic", "bp_diastolic"):
                self.initial.setdefault(name, vitals.get(name))
            whole = [f for f in self.instance.findings or [] if not f.get("region")]
            self.initial["whole_body_findings"] = [f["code"] for f in whole if not f.get("cleared")]
            self.initial["whole_body_cleared"] = [f["code"] for f in whole if f.get("cleared")]
            self.initial["version"] = self.instance.version

    def whole_body(self) -> list[dict[str, Any]]:
        """The whole-body findings ticked today; one ticked as cleared is recorded as cleared."""
        cleared = list(self.cleaned_data.get("whole_body_cleared") or [])
        present = [c for c in self.cleaned_data.get("whole_body_findings") or [] if c not in cleared]
        return [{"code": code} for code in present] + [{"code": code, "cleared": True} for code in cleared]

    def clean_soreness_since_last(self) -> int | None:
        return _in_range(self.cleaned_data.get("soreness_since_last"), 0, 10)

    def clean_soreness_hours(self) -> int | None:
        return _in_range(self.cleaned_data.get("soreness_hours"), 0, 336, "hours (two weeks at most)")

    def clean_nprs_before(self) -> int | None:
        return _in_range(self.cleaned_data.get("nprs_before"), 0, 10)

    def clean_nprs_after(self) -> int | None:
        return _in_range(self.cleaned_data.get("nprs_after"), 0, 10)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        systolic, diastolic = data.get("bp_systolic"), data.get("bp_diastolic")
        if systolic is not None and diastolic is not None and diastolic >= systolic:
            self.add_error("bp_diastolic", "The diastolic pressure must be lower than the systolic.")
        if (systolic is None) != (diastolic is None):
            self.add_error("bp_diastolic" if diastolic is None else "bp_systolic",
                           "Enter both blood pressure numbers, or neither.")
        return data

    def vitals(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in ("temperature_c", "bp_systolic", "bp_diastolic"):
            value = self.cleaned_data.get(name)
            if value is not None:
                out[name] = float(value) if name == "temperature_c" else int(value)
        return out


def _in_range(value: int | None, low: int, high: int, what: str = "") -> int | None:
    if value is not None and not low <= value <= high:
        raise forms.ValidationError(f"Enter a number from {low} to {high}{' ' + what if what else ''}.")
    return value


SIDES = vocabulary.side_choices()


class RowForm(forms.Form):
    """A row of a table; ``remove`` drops it (works without JavaScript)."""

    remove = forms.BooleanField(label="Remove", required=False, widget=CheckboxInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("use_required_attribute", False)
        super().__init__(*args, **kwargs)
        self.empty_permitted = True

    @property
    def key(self) -> str:
        return str(self.prefix).rsplit("-", 1)[-1]

    @property
    def removed(self) -> bool:
        return bool(self.is_bound and self.data.get(self.add_prefix("remove")))

    def is_blank(self) -> bool:
        if not self.is_bound:
            return not any(v not in (None, "") for v in self.initial.values())
        return not any(str(self.data.get(self.add_prefix(name), "")).strip()
                       for name in self.fields if name not in ("remove", *self.ignore_for_blank))

    ignore_for_blank: tuple[str, ...] = ()


class TreatmentRowForm(RowForm):
    technique = vocabulary.VocabularyChoiceField(label="Technique", widget=FastSelect,
                                                 choices=vocabulary.choices("technique", vocabulary.CHOOSE))
    region = vocabulary.VocabularyChoiceField(label="Region", widget=FastSelect,
                                              choices=[vocabulary.CHOOSE, *vocabulary.region_choices()])
    side = vocabulary.VocabularyChoiceField(label="Side", choices=SIDES, required=False, widget=FastSelect)
    pressure = vocabulary.VocabularyChoiceField(label="Pressure", choices=vocabulary.pressure_choices(),
                                                widget=FastSelect)
    minutes = forms.IntegerField(label="Minutes", min_value=1, max_value=MAX_ROW_MINUTES,
                                 widget=NumberInput(attrs={"min": 1, "max": MAX_ROW_MINUTES}))
    response = vocabulary.VocabularyChoiceField(label="Patient response", choices=Response.choices, required=False,
                                                widget=FastSelect)
    override_reason = forms.CharField(label="Reason to override the restriction", required=False, max_length=300, widget=TextInput)

    # A reason typed alone is not a row; anything else typed makes the row count (and be checked).
    ignore_for_blank = ("override_reason",)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        vocabulary.check_side(self, data.get("region"), data.get("side"))
        return data

    def row(self) -> Treatment:
        data = self.cleaned_data
        return Treatment(data["technique"], data["region"], data.get("side") or "", data["pressure"], data["minutes"],
                         data.get("response") or "", (data.get("override_reason") or "").strip())


class ComplementaryRowForm(RowForm):
    therapy = vocabulary.VocabularyChoiceField(label="Therapy", widget=FastSelect,
                                               choices=vocabulary.choices("therapy", vocabulary.CHOOSE))
    minutes = forms.IntegerField(label="Minutes", min_value=0, max_value=MAX_ROW_MINUTES, required=False,
                                 widget=NumberInput(attrs={"min": 0, "max": MAX_ROW_MINUTES}))
    notes = forms.CharField(label="Notes", required=False, max_length=200, widget=TextInput)
    override_reason = forms.CharField(label="Reason to override the restriction", required=False, max_length=300,
                                      widget=TextInput)

    ignore_for_blank = ("override_reason",)

    def row(self) -> Complementary:
        data = self.cleaned_data
        return Complementary(data["therapy"], data.get("minutes") or 0, data.get("notes") or "",
                             (data.get("override_reason") or "").strip())


class LocalFindingForm(RowForm):
    code = vocabulary.VocabularyChoiceField(label="Finding", widget=FastSelect,
                                            choices=[vocabulary.CHOOSE, *vocabulary.finding_choices("local")])
    region = vocabulary.VocabularyChoiceField(label="Where", widget=FastSelect,
                                              choices=[vocabulary.CHOOSE, *vocabulary.site_choices()])
    side = vocabulary.VocabularyChoiceField(label="Side", choices=SIDES, required=False, widget=FastSelect)
    days_ago = forms.IntegerField(label="Days ago (fracture, incision)", required=False, min_value=0, max_value=3650,
                                  widget=NumberInput(attrs={"min": 0}))
    closed = forms.ChoiceField(label="Incision closed?", required=False, choices=vocabulary.CLOSED_CHOICES,
                               widget=FastSelect)
    cleared = forms.BooleanField(label=vocabulary.CLEARED_LABEL, required=False, widget=CheckboxInput)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        vocabulary.check_side(self, data.get("region"), data.get("side"))
        problem = vocabulary.cleared_problem(data.get("code"), data.get("cleared"))
        if problem:
            self.add_error("cleared", problem)
        return data

    def finding(self) -> dict[str, Any]:
        data = self.cleaned_data
        out: dict[str, Any] = {"code": data["code"], "region": data["region"]}
        if data.get("side"):
            out["side"] = data["side"]
        if data.get("days_ago") is not None:
            out["days_ago"] = data["days_ago"]
        if data.get("closed"):
            out["closed"] = data["closed"] == "yes"
        if data.get("cleared"):
            out["cleared"] = True
        return out


class RomRowForm(RowForm):
    measure = vocabulary.VocabularyChoiceField(label="Joint and motion", widget=FastSelect,
                                               choices=[vocabulary.CHOOSE, *vocabulary.rom_choices()])
    side = vocabulary.VocabularyChoiceField(label="Side", choices=SIDES, required=False, widget=FastSelect)
    degrees = forms.IntegerField(label="Degrees", min_value=0, max_value=360, widget=NumberInput(attrs={"min": 0}))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("measure") in vocabulary.rom_movements():
            joint, motion, _ = vocabulary.rom_movements()[data["measure"]]
            vocabulary.check_side(self, joint, data.get("side"))
            if data.get("degrees") is not None:
                try:
                    check_rom(joint, motion, data["degrees"])  # the motion's physiological limit, named
                except InputError as error:
                    self.add_error("degrees", error.message)
        return data

    def measurement(self) -> dict[str, Any]:
        joint, motion = self.cleaned_data["measure"].split(":", 1)
        out: dict[str, Any] = {"joint": joint, "motion": motion, "degrees": self.cleaned_data["degrees"]}
        if self.cleaned_data.get("side"):
            out["side"] = self.cleaned_data["side"]
        return out


ROW_FORMS: dict[str, type[RowForm]] = {
    "t": TreatmentRowForm, "c": ComplementaryRowForm, "f": LocalFindingForm, "rom": RomRowForm,
}
BLANK_ROWS = {"t": 3, "c": 2, "f": 2, "rom": 2}


def new_key() -> str:
    return "n" + secrets.token_hex(4)


class RowSet:
    """The rows of one table, bound to POST data or built from stored values plus blank rows.

    A posted row left blank or ticked "Remove" is read from the raw data; its form is only built
    when the page is drawn again (most saves redirect), since building a row form is most of the
    cost of reading a posted note.
    """

    def __init__(self, kind: str, data: Mapping[str, Any] | None = None,
                 initial: Sequence[Mapping[str, Any]] = (), blank: int | None = None) -> None:
        self.kind = kind
        self.form_class = form_class = ROW_FORMS[kind]
        self._forms: dict[str, RowForm | None] = {}
        self.data = data
        if data is not None:
            pattern = re.compile(rf"^{re.escape(kind)}-([A-Za-z0-9]+)-")
            keys = list(dict.fromkeys(m.group(1) for name in data if (m := pattern.match(name))))
            ignored = ("remove", *form_class.ignore_for_blank)
            fields = [name for name in form_class.base_fields if name not in ignored]
            for key in keys:
                prefix = f"{kind}-{key}"
                counts = (not data.get(f"{prefix}-remove")
                          and any(str(data.get(f"{prefix}-{name}", "")).strip() for name in fields))
                self._forms[key] = self._bound(key) if counts else None
        else:
            self._forms = {str(i): form_class(initial=dict(row), prefix=f"{kind}-{i}") for i, row in enumerate(initial)}
            count = BLANK_ROWS[kind] if blank is None else blank
            for _ in range(count):
                key = new_key()
                self._forms[key] = form_class(prefix=f"{kind}-{key}")

    def _bound(self, key: str) -> RowForm:
        return self.form_class(self.data, prefix=f"{self.kind}-{key}")

    @property
    def forms(self) -> list[RowForm]:
        """Every row in page order (blank and removed rows too, to draw them again)."""
        for key, form in self._forms.items():
            if form is None:
                self._forms[key] = self._bound(key)
        return [form for form in self._forms.values() if form is not None]

    def used(self) -> list[RowForm]:
        """The rows that count: neither blank nor removed (and so validated in full)."""
        used = [f for f in self._forms.values() if f is not None and not f.removed and not f.is_blank()]
        for form in used:
            form.empty_permitted = False
        return used

    def is_valid(self) -> bool:
        return all(f.is_valid() for f in self.used())

    @property
    def errors(self) -> list[RowForm]:
        return [f for f in self.used() if f.errors]


# The names the row cells' labels use (visits/_row_*.html: "Technique, treatment row 3").
ROW_TABLE_NAMES = {"rom": "Range of motion", "f": "Finding", "t": "Treatment", "c": "Complementary therapy"}


def blank_row(kind: str) -> RowForm:
    return ROW_FORMS[kind](prefix=f"{kind}-{new_key()}")


class NoteForms:
    """The note page's forms: the SOAP form and its four row tables, bound to a POST or to the stored note.

    ``note()`` reads them into a :class:`~palpate.visits.note.NoteInput`, the one shape the services
    take. For the live preview a half-typed page still gives a note: what does not validate yet
    (a vital out of range, a row still being filled in) stands as stored.
    """

    def __init__(self, visit: Visit, data: Mapping[str, Any] | None = None,
                 stored: NoteInput | None = None) -> None:
        self.visit = visit
        # ``putback-<position>``: the reason to put a carried-forward row back as it was carried.
        self.put_back: dict[int, str] = {
            int(name.split("-", 1)[1]): str(value).strip() for name, value in (data or {}).items()
            if re.fullmatch(r"putback-\d{1,4}", name) and str(value).strip()}
        if data is not None:
            # A copy: a ModelForm writes what it cleaned onto its instance, and the draft as read is
            # what a save compares with and writes over (services.do_save_visit_note).
            self.form = VisitNoteForm(data, instance=copy.copy(visit))
            self.rows = {kind: RowSet(kind, data=data) for kind in ROW_FORMS}
        else:
            stored = stored or NoteInput.of(visit)
            reasons = override_reasons(visit)
            local = [{"code": f["code"], "region": f.get("region"), "side": f.get("side") or "",
                      "days_ago": f.get("days_ago"), "closed": {True: "yes", False: "no"}.get(f.get("closed"), ""),
                      "cleared": bool(f.get("cleared"))}
                     for f in stored.findings if f.get("region")]
            rom = [{"measure": f"{m.get('joint')}:{m.get('motion')}", "side": m.get("side") or "",
                    "degrees": m.get("degrees")} for m in stored.rom]
            treatments = [{**t.stored(), "override_reason": t.override_reason or reasons.get(row_key(t), "")}
                          for t in stored.treatments]
            complementary = [{**c.stored(), "override_reason": c.override_reason or reasons.get(
                item_key(c.item(visit.episode.body_region, visit.episode.side)), "")} for c in stored.complementary]
            self.form = VisitNoteForm(instance=visit)
            self.rows = {"t": RowSet("t", initial=treatments),
                         "c": RowSet("c", initial=complementary),
                         "f": RowSet("f", initial=local), "rom": RowSet("rom", initial=rom)}

    @property
    def bound(self) -> bool:
        return self.form.is_bound

    def is_valid(self) -> bool:
        valid = self.form.is_valid()
        return all([valid, *(rowset.is_valid() for rowset in self.rows.values()), not self.put_back_errors])

    def error_links(self) -> list[tuple[str, str]]:
        """(anchor, message) for the error summary: the note's fields, then each table's rows, in page order."""
        form = self.form
        links = [("", str(e)) for e in form.non_field_errors()]
        links += [(form[name].id_for_label or form[name].auto_id, f"{form.fields[name].label}: {e}")
                  for name in form.fields for e in form.errors.get(name, [])]
        for kind in ("rom", "f", "t", "c"):
            for number, row in enumerate(self.rows[kind].forms, start=1):
                for name, errors in row.errors.items():
                    anchor = row[name].auto_id if name in row.fields else f"row-{row.prefix}"
                    label = str(row.fields[name].label).lower() if name in row.fields else "row"
                    links += [(anchor, f"{ROW_TABLE_NAMES[kind]} row {number}, {label}: {e}") for e in errors]
        links += [("", f"Carried-forward row {index + 1}: {message}") for index, message in self.put_back_errors.items()]
        return links

    @property
    def put_back_errors(self) -> dict[int, str]:
        """A carried-forward row is put back only with a reason (the core's one minimum)."""
        errors = {}
        for index, reason in self.put_back.items():
            try:
                check_override_reason(reason)
            except InputError as error:
                errors[index] = error.message
        return errors

    def _cleaned(self, name: str) -> Any:
        form = self.form
        if form.is_valid() or (hasattr(form, "cleaned_data") and name in form.cleaned_data and name not in form.errors):
            return form.cleaned_data.get(name)
        return getattr(self.visit, name)

    def note(self) -> NoteInput:
        """The note as typed (call after ``is_valid``); parts that do not validate stand as stored."""
        form = self.form
        form.is_valid()
        values = {name: self._cleaned(name) for name in NOTE_FIELDS}
        values["relief"] = values["relief"] or ""
        findings = list(self.visit.findings or [])
        if self.rows["f"].is_valid() and not {"whole_body_findings", "whole_body_cleared"} & set(form.errors):
            findings = form.whole_body()
            findings += [f.finding() for f in self.rows["f"].used()]  # type: ignore[attr-defined]
        vitals = dict(self.visit.vitals or {})
        if not {"temperature_c", "bp_systolic", "bp_diastolic"} & set(form.errors):
            vitals = form.vitals()
        rom = list(self.visit.rom or [])
        if self.rows["rom"].is_valid():
            rom = [f.measurement() for f in self.rows["rom"].used()]  # type: ignore[attr-defined]
        return NoteInput(**values, findings=findings, vitals=vitals, rom=rom,
                         treatments=[f.row() for f in self.rows["t"].used() if f.is_valid()],  # type: ignore[attr-defined]
                         complementary=[f.row() for f in self.rows["c"].used() if f.is_valid()],  # type: ignore[attr-defined]
                         put_back={i: r for i, r in self.put_back.items() if i not in self.put_back_errors})

    def with_version(self, version: int) -> None:
        """After a refused or partial save the form goes on from ``version`` (nothing typed is lost)."""
        data = self.form.data.copy()
        data["version"] = str(version)
        self.form.data = data


def row_key(row: Treatment) -> tuple[str, ...]:
    return item_key(row.item())


def override_reasons(visit: Visit) -> dict[tuple[str, ...], str]:
    """The reason recorded for each row overridden in this note, to show it again beside the row
    (an override carried from the plan of care is shown as such, not as a typed reason)."""
    out = {}
    for o in visit.overrides or []:
        if o.get("from_plan"):
            continue
        row = o.get("row") or {}
        if o.get("item"):
            out[item_key(o["item"])] = str(o.get("reason"))
        elif row.get("technique"):
            out[item_key({k: row.get(k) for k in ("technique", "region", "side", "pressure")})] = str(o.get("reason"))
    return out
