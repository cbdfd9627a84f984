"""The plan-of-care editor: one page, four kinds of rows, nothing typed is ever lost.

``PlanEditor`` bundles the plan's own fields with three formsets (goals, soft-tissue items, home
exercises). Adding or removing a row re-renders the page (or, with htmx, the form) from exactly
what was posted, without validating, so a half-typed row never turns into a wall of errors and
nothing typed disappears. Saving validates everything, including the safety check of each item
against the restrictions stored with the plan (``services.check_item``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django import forms
from django.forms import formset_factory

from palpate.clinics.actor import Actor
from palpate.clinics.roles import SAFETY_OVERRIDE
from palpate.core import safety
from palpate.lib import vocabulary
from palpate.plans import services
from palpate.plans.certification import MAX_DURATION_WEEKS, MAX_FREQUENCY_PER_WEEK
from palpate.plans.models import PlanOfCare

MAX_ROWS = {"goals": 12, "items": 30, "home": 12}
TERM_CHOICES = [("short", "Short-term"), ("long", "Long-term")]
MAX_MINUTES_PER_ITEM = 60
THERAPY_REASON = "therapy_reason_"
OVERRIDE_REASON_LABEL = "Reason for overriding this precaution"


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


class PlanForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    start_date = forms.DateField(
        label="Start date", required=False, widget=DateInput(),
        help_text="Leave blank to start the plan on the day it is signed.",
    )
    frequency_per_week = forms.IntegerField(
        label="Visits per week", min_value=1, max_value=MAX_FREQUENCY_PER_WEEK,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    duration_weeks = forms.IntegerField(
        label="Duration (weeks)", min_value=1, max_value=MAX_DURATION_WEEKS,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        help_text="Re-certification falls at the end of the duration, and no later than 90 days after the start.",
    )
    complementary = forms.MultipleChoiceField(
        label="Complementary therapies", required=False, widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["complementary"].choices = vocabulary.choices("therapy")
        # One reason box per therapy, shown beside it only where it breaks a precaution.
        for code, _ in vocabulary.choices("therapy"):
            self.fields[THERAPY_REASON + code] = forms.CharField(
                label="Reason for overriding this precaution", required=False, max_length=1000,
                widget=forms.TextInput())

    def therapy_reasons(self) -> dict[str, str]:
        return {name[len(THERAPY_REASON):]: str(value).strip() for name, value in self.cleaned_data.items()
                if name.startswith(THERAPY_REASON) and value}


class RowForm(forms.Form):
    """A row of a formset; a row left completely blank is ignored rather than refused."""

    # Fields whose value alone does not make a row "filled in" (a select that always has a value).
    ignore_when_blank: tuple[str, ...] = ()

    def has_changed(self) -> bool:
        for name in self.fields:
            if name in self.ignore_when_blank:
                continue
            value = self[name].value()
            if value not in (None, "", [], False):
                return True
        return False


class GoalForm(RowForm):
    ignore_when_blank = ("term",)

    term = forms.ChoiceField(label="Term", choices=TERM_CHOICES)
    text = forms.CharField(
        label="Functional goal", max_length=400,
        widget=forms.TextInput(attrs={"placeholder": "e.g. Sit through a 2-hour drive with pain 2/10 or less"}),
    )
    target_date = forms.DateField(label="Target date", required=False, widget=DateInput())


class ItemForm(RowForm):
    # The hidden link to the suggestion and a side alone do not make a row: a row whose technique,
    # region, pressure and minutes were all cleared is dropped like a removed one.
    ignore_when_blank = ("suggestion", "side", "override_reason")

    technique = forms.ChoiceField(label="Technique")
    region = forms.ChoiceField(label="Region")
    side = forms.ChoiceField(label="Side", choices=vocabulary.side_choices(), required=False)
    pressure = forms.ChoiceField(label="Pressure")
    minutes = forms.IntegerField(label="Minutes", min_value=1, max_value=MAX_MINUTES_PER_ITEM,
                                 widget=forms.NumberInput(attrs={"inputmode": "numeric"}))
    # A note is a note: the one reason box for an override is ``override_reason``, shown with the
    # item only when the item breaks a precaution (two boxes that both said "reason" lost text).
    note = forms.CharField(label="Note (optional, printed with the item)", required=False, max_length=400)
    override_reason = forms.CharField(
        label=OVERRIDE_REASON_LABEL, required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2}),
    )
    suggestion = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["technique"].choices = vocabulary.choices("technique", vocabulary.CHOOSE)
        self.fields["region"].choices = [vocabulary.CHOOSE, *vocabulary.region_choices()]
        self.fields["pressure"].choices = vocabulary.pressure_choices()
        self.broken: list[dict[str, Any]] = []
        # An override is offered only where the rule allows one (core.safety.may_override).
        self.overridable = False

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        vocabulary.check_side(self, data.get("region"), data.get("side"))
        return data


class HomeExerciseForm(RowForm):
    ignore_when_blank = ("side", "override_reason")

    exercise = forms.ChoiceField(label="Exercise")
    side = forms.ChoiceField(label="Side", choices=vocabulary.side_choices(), required=False)
    dose = forms.CharField(label="Dose", required=False, max_length=200,
                           help_text="Blank: the library's dose.")
    instructions = forms.CharField(label="Plain instructions for the patient", required=False, max_length=1500,
                                   widget=forms.Textarea(attrs={"rows": 2}), help_text="Blank: the library's wording.")
    override_reason = forms.CharField(label=OVERRIDE_REASON_LABEL, required=False, max_length=1000,
                                      widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["exercise"].choices = [vocabulary.CHOOSE, *vocabulary.exercise_choices()]
        self.broken: list[dict[str, Any]] = []
        self.overridable = False

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        library = vocabulary.exercise_library().get(data.get("exercise") or "")
        if library:
            # The library's words fill what the therapist left blank (what the patient will read).
            data["dose"] = (data.get("dose") or "").strip() or library["dose"]
            data["instructions"] = (data.get("instructions") or "").strip() or library["instructions"]
        return data


class RowFormSet(forms.BaseFormSet):
    """Every row may be blank (and is then skipped); the page decides how many rows to show."""

    def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
        return {**super().get_form_kwargs(index), "empty_permitted": True}

    def filled(self) -> list[forms.Form]:
        return [f for f in self.forms if f.has_changed() and getattr(f, "cleaned_data", None)]


class GoalFormSet(RowFormSet):
    start_date: dt.date | None = None

    def clean(self) -> None:
        # Row by row: a goal missing its text does not hide another goal's target date before the start.
        for form in self.filled():
            if "target_date" in form.errors:
                continue
            target = form.cleaned_data.get("target_date")
            if target and self.start_date and target < self.start_date:
                form.add_error("target_date", "The target date is before the plan's start date.")


def _refuse_unsafe(form: forms.Form, actor: Actor, plan: PlanOfCare, item: Mapping[str, Any]) -> None:
    """The one safety check (services.check_item, core.safety) on a row: the error goes on the
    row's one reason box where a precaution may be overridden, on the row otherwise."""
    problem = services.check_item(actor, plan, item, form.cleaned_data.get("override_reason") or "")
    if problem is None:
        return
    form.broken = problem.restrictions  # type: ignore[attr-defined]
    form.overridable = problem.can_override  # type: ignore[attr-defined]
    form.add_error("override_reason" if problem.can_override else None, problem.message)


class ItemFormSet(RowFormSet):
    """Soft-tissue items, each checked against the restrictions stored with the plan."""

    plan: PlanOfCare
    actor: Actor

    def clean(self) -> None:
        suggestions = self.plan.screen_result.get("plan") or []
        for form in self.filled():
            if form.errors:
                continue
            index = form.cleaned_data.get("suggestion")
            if index is not None and index >= len(suggestions):
                form.cleaned_data["suggestion"] = None
            _refuse_unsafe(form, self.actor, self.plan, services.item_from_form(form.cleaned_data))


class HomeFormSet(RowFormSet):
    """Home exercises, each checked like a soft-tissue item: restrictions bind the home programme
    too (planning policy §1.6), at every region the exercise moves or loads."""

    plan: PlanOfCare
    actor: Actor

    def clean(self) -> None:
        for form in self.filled():
            if not form.errors and form.cleaned_data.get("exercise"):
                _refuse_unsafe(form, self.actor, self.plan, services.exercise_item(form.cleaned_data))


GoalFormSetClass = formset_factory(GoalForm, formset=GoalFormSet, extra=0, max_num=MAX_ROWS["goals"], validate_max=True)
ItemFormSetClass = formset_factory(ItemForm, formset=ItemFormSet, extra=0, max_num=MAX_ROWS["items"], validate_max=True)
HomeFormSetClass = formset_factory(HomeExerciseForm, formset=HomeFormSet, extra=0, max_num=MAX_ROWS["home"],
                                   validate_max=True)

PREFIXES = {"goals": "goals", "items": "items", "home": "home"}


@dataclass(frozen=True)
class RowOperation:
    kind: str  # add | remove
    rows: str  # goals | items | home
    index: int | None = None


def row_operation(data: Mapping[str, Any]) -> RowOperation | None:
    """``add_row=items`` or ``remove_row=items-3`` from the button that was pressed, if any.

    (Not plain ``add``/``remove``: a form control named ``remove`` hides the form element's own
    ``remove()`` method, which htmx calls when it swaps the form.)
    """
    add = str(data.get("add_row") or "")
    if add in PREFIXES:
        return RowOperation("add", add)
    remove = str(data.get("remove_row") or "")
    rows, _, index = remove.rpartition("-")
    if rows in PREFIXES and index.isdigit():
        return RowOperation("remove", rows, int(index))
    return None


class PlanEditor:
    """The plan form and its three formsets, bound to a POST or filled from the saved plan."""

    def __init__(self, plan: PlanOfCare, actor: Actor, data: Mapping[str, Any] | None = None,
                 initial: dict[str, Any] | None = None) -> None:
        self.plan = plan
        self.actor = actor
        initial = initial if initial is not None else initial_from_plan(plan)
        if data is not None:
            self.form = PlanForm(data)
            self.goals = GoalFormSetClass(data, prefix="goals")
            self.items = ItemFormSetClass(data, prefix="items")
            self.home = HomeFormSetClass(data, prefix="home")
        else:
            self.form = PlanForm(initial=initial["plan"])
            self.goals = GoalFormSetClass(initial=initial["goals"], prefix="goals")
            self.items = ItemFormSetClass(initial=initial["items"], prefix="items")
            self.home = HomeFormSetClass(initial=initial["home"], prefix="home")
        self.items.plan = self.home.plan = plan
        self.items.actor = self.home.actor = actor
        self.suggestions = list(plan.screen_result.get("plan") or [])
        self.added = ""  # which rows just got a blank row (the page focuses it)
        self.suggested_therapies = {c["therapy"]: c for c in plan.screen_result.get("complementary") or []}

    # -- saving ---------------------------------------------------------------------------------

    def is_valid(self) -> bool:
        form = self.form
        form.is_valid()
        # Each check runs on what it needs, whatever else is wrong, so one save names every problem:
        # the goals' dates against a valid start date, each chosen therapy against the plan's stored
        # screen (it needs only the therapy and its reason, not the frequency or the duration).
        self.goals.start_date = form.cleaned_data.get("start_date") if "start_date" not in form.errors else None
        if "complementary" not in form.errors:
            self._check_therapies()
        # Evaluate every part so each shows its own errors at once.
        results = [not form.errors, self.goals.is_valid(), self.items.is_valid(), self.home.is_valid()]
        return all(results)

    def _check_therapies(self) -> None:
        """Each chosen therapy against the plan's screen at the episode's region (core.safety), the
        error on its own reason box where the precaution may be overridden."""
        reasons = self.form.therapy_reasons()
        for code in self.form.cleaned_data.get("complementary") or []:
            problem = services.check_item(self.actor, self.plan, services.therapy_item(self.plan.episode, code),
                                          reasons.get(code, ""))
            if problem is not None:
                self.form.add_error(THERAPY_REASON + code if problem.can_override else "complementary", problem.message)

    @property
    def version(self) -> int:
        return int(self.form.cleaned_data["version"])

    def changes(self) -> services.PlanChanges:
        data = self.form.cleaned_data
        return services.PlanChanges(
            start_date=data.get("start_date"),
            frequency_per_week=data["frequency_per_week"],
            duration_weeks=data["duration_weeks"],
            goals=[{"term": f.cleaned_data["term"], "text": f.cleaned_data["text"].strip(),
                    "target_date": f.cleaned_data["target_date"].isoformat() if f.cleaned_data.get("target_date") else None}
                   for f in self.goals.filled()],
            items=[{**services.item_from_form(f.cleaned_data),
                    "override_reason": (f.cleaned_data.get("override_reason") or "").strip()}
                   for f in self.items.filled()],
            complementary=list(data.get("complementary") or []),
            complementary_reasons=self.form.therapy_reasons(),
            home_program=[{"exercise": f.cleaned_data["exercise"], "side": f.cleaned_data.get("side") or None,
                           "dose": f.cleaned_data["dose"], "instructions": f.cleaned_data["instructions"],
                           "override_reason": (f.cleaned_data.get("override_reason") or "").strip()}
                          for f in self.home.filled()],
        )

    def error_links(self) -> list[tuple[str, str]]:
        """(anchor, message) for the error summary, in page order: the plan's own fields, goals,
        soft-tissue items, complementary therapies' reasons, then the home programme; each a link to its field."""
        form = self.form
        links = [("", str(e)) for e in form.non_field_errors()]
        for name in ("version", "start_date", "frequency_per_week", "duration_weeks", "complementary"):
            anchor = f"{form[name].auto_id}_0" if name == "complementary" else form[name].auto_id
            links += [(anchor, f"{form.fields[name].label}: {e}") for e in form.errors.get(name, [])]
        links += self._row_links(self.goals, "Goal")
        links += self._row_links(self.items, "Technique")
        # A reason box is drawn only for a person who may override; otherwise the link goes to the therapy.
        box_shown = self.actor.can(SAFETY_OVERRIDE)
        for index, (code, label) in enumerate(vocabulary.choices("therapy")):
            name = THERAPY_REASON + code
            anchor = form[name].auto_id if box_shown else f"id_complementary_{index}"
            links += [(anchor, f"{label}, {str(form.fields[name].label).lower()}: {e}")
                      for e in form.errors.get(name, [])]
        links += self._row_links(self.home, "Home exercise")
        return links

    def _row_links(self, formset: forms.BaseFormSet, title: str) -> list[tuple[str, str]]:
        try:
            rows = formset.forms
        except forms.ValidationError:  # a broken management form: said as the formset's own error
            rows = []
        links = [("", f"{title}s: {e}") for e in formset.non_form_errors()]
        for number, row in enumerate(rows, start=1):
            for name, errors in row.errors.items():
                # The reason box is drawn only where an override is possible; the row always is.
                shown = name in row.fields and (name != "override_reason" or self.actor.can(SAFETY_OVERRIDE))
                anchor = row[name].auto_id if shown else f"{row.prefix}-row"
                label = str(row.fields[name].label).lower() if name in row.fields else "row"
                links += [(anchor, f"{title} row {number}, {label}: {e}") for e in errors]
        return links

    @property
    def has_errors(self) -> bool:
        return bool(self.form.errors or any(self.goals.errors) or self.goals.non_form_errors()
                    or any(self.items.errors) or self.items.non_form_errors()
                    or any(self.home.errors) or self.home.non_form_errors())

    # -- adding and removing rows without losing anything --------------------------------------

    def typed(self) -> dict[str, Any]:
        """Everything as posted, as initial values for unbound forms (no validation, no errors)."""
        def rows(formset: forms.BaseFormSet) -> list[dict[str, Any]]:
            try:
                forms_ = formset.forms
            except forms.ValidationError:  # a broken management form: start those rows afresh
                return []
            return [{name: form[name].value() for name in form.fields} for form in forms_]

        plan_values = {name: self.form[name].value() for name in self.form.fields}
        return {"plan": plan_values, "goals": rows(self.goals), "items": rows(self.items), "home": rows(self.home)}

    def rebuilt(self, operation: RowOperation) -> PlanEditor:
        typed = self.typed()
        rows = typed[operation.rows]
        if operation.kind == "add" and len(rows) < MAX_ROWS[operation.rows]:
            rows.append(blank_row(operation.rows, rows))
        elif operation.kind == "remove" and operation.index is not None and 0 <= operation.index < len(rows):
            rows.pop(operation.index)
        editor = PlanEditor(self.plan, self.actor, initial=typed)
        editor.added = operation.rows if operation.kind == "add" else ""
        return editor

    def with_version(self, data: Mapping[str, Any], version: int) -> PlanEditor:
        """The same posted data, now based on ``version`` (after a stale save was refused)."""
        fresh = data.copy()  # type: ignore[attr-defined]
        fresh["version"] = str(version)
        return PlanEditor(self.plan, self.actor, data=fresh)

    # -- what the template shows next to each row -------------------------------------------------

    def item_rows(self) -> list[tuple[forms.Form, dict[str, Any] | None, dict[str, Any]]]:
        """Each item form with the engine suggestion it started from (rationale, evidence) and what
        the plan's screen says about it as it stands (:meth:`safety_of`)."""
        out = []
        for form in self.items.forms:
            raw = form["suggestion"].value()
            index = int(raw) if raw is not None and str(raw).isdigit() else None
            suggestion = self.suggestions[index] if index is not None and index < len(self.suggestions) else None
            values = {name: form[name].value() for name in ("technique", "region", "side", "pressure")}
            item = services.item_from_form(values) if values["technique"] and values["region"] else None
            out.append((form, suggestion, self.safety_of(item)))
        return out

    def home_rows(self) -> list[tuple[forms.Form, dict[str, Any]]]:
        """Each home-exercise form with what the plan's screen says about it."""
        out = []
        for form in self.home.forms:
            code = form["exercise"].value()
            item = services.exercise_item({"exercise": code, "side": form["side"].value()}) if code else None
            out.append((form, self.safety_of(item)))
        return out

    def safety_of(self, item: Mapping[str, Any] | None) -> dict[str, Any]:
        """What the stored screen says about an item as typed: the breaches in words, and whether an
        override is possible (a precaution only, ``core.safety.may_override``). The editor shows the
        one reason box only then, so a row is never offered a box whose text could not count."""
        if not item:
            return {}
        found = services.item_breaches(self.plan, item)
        if not found:
            return {}
        return {"breaches": [b.message for b in found], "overridable": all(b.overridable for b in found),
                "can_override": self.actor.can(SAFETY_OVERRIDE) and all(b.overridable for b in found)}

    def therapy_rows(self) -> list[dict[str, Any]]:
        selected = {str(v) for v in (self.form["complementary"].value() or [])}
        rows = []
        for index, (code, label) in enumerate(vocabulary.choices("therapy")):
            suggested = self.suggested_therapies.get(code)
            reason = self.form[THERAPY_REASON + code]
            rows.append({"code": code, "label": label, "checked": code in selected, "suggested": suggested,
                         "why": (suggested or services.therapy_entry(code))["why"], "id": f"id_complementary_{index}",
                         "safety": self.safety_of(services.therapy_item(self.plan.episode, code)),
                         "reason": reason, "errors": self.form.errors.get(THERAPY_REASON + code, [])})
        return rows


def blank_row(rows: str, existing: list[dict[str, Any]]) -> dict[str, Any]:
    if rows == "goals":
        # A plan needs long-term goals; offer one once the short-term ones are there.
        has_short = any(r.get("term") == "short" for r in existing)
        return {"term": "long" if has_short else "short", "text": "", "target_date": ""}
    return {}


def initial_from_plan(plan: PlanOfCare) -> dict[str, Any]:
    reasons = services.override_reasons(plan)
    therapy_reasons = {THERAPY_REASON + str(c.get("therapy")): reason for c in plan.complementary
                       if (reason := reasons.get(safety.item_key(services.therapy_item(plan.episode,
                                                                                       str(c.get("therapy"))))))}
    goals = [{"term": g.get("term", "short"), "text": g.get("text", ""), "target_date": g.get("target_date") or ""}
             for g in plan.goals] or [{"term": "short"}, {"term": "long"}]
    items = [{"technique": i.get("technique"), "region": i.get("region"), "side": i.get("side") or "",
              "pressure": i.get("pressure"), "minutes": i.get("minutes"), "note": i.get("note", ""),
              "suggestion": i.get("suggestion"), "override_reason": reasons.get(safety.item_key(i), "")}
             for i in plan.items]
    home = [{"exercise": h.get("exercise"), "side": h.get("side") or "", "dose": h.get("dose", ""),
             "instructions": h.get("instructions", ""),
             "override_reason": reasons.get(safety.item_key(services.exercise_item(h)), "")} for h in plan.home_program]
    return {
        "plan": {"version": plan.version, "start_date": plan.start_date, "frequency_per_week": plan.frequency_per_week,
                 "duration_weeks": plan.duration_weeks, "complementary": [c.get("therapy") for c in plan.complementary],
                 **therapy_reasons},
        "goals": goals, "items": items, "home": home,
    }
