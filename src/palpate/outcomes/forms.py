"""Questionnaire forms, built from the core's instrument definitions.

One radio group per item, in published order, labelled with the clinic's licensed wording when it
was loaded and with the core's topic words otherwise. The form never scores: ``clean`` hands the
answers to ``services.check_measurement`` (the core) and turns the core's ``InputError`` back into
a message on the item it names, so a bad answer is marked where it is and everything else typed
stays as it was.

Decisions (the issue left them open):
- "Not answered" is offered only where the instrument's missing-item rule tolerates a gap (ODI,
  NDI, QuickDASH, PSFS). Where it does not (NPRS, LEFS, the BCTQ scales), every item must be
  answered, since a gap would only make the questionnaire unscorable.
- Every item needs an explicit choice: a radio left untouched is an error, never a silent gap,
  so an item skipped while tabbing through is caught before it changes a score.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django import forms
from django.utils import timezone

from palpate.core.errors import InputError
from palpate.core.measures import Instrument, Item, Scale
from palpate.outcomes import main_measure, services

NOT_ANSWERED = "na"


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


def tolerates_gaps(scale: Scale) -> bool:
    """The scale's missing-item rule allows at least one unanswered item (None: any, if one is answered)."""
    return scale.missing.max_missing is None or scale.missing.max_missing > 0


@dataclass(frozen=True)
class ItemRow:
    """What the template needs to draw one item as a fieldset of radios."""

    field: forms.BoundField
    number: int
    topic: str
    wording: str | None
    # PSFS: the text box for the activity's name, drawn in the same fieldset as its rating.
    name_field: forms.BoundField | None = None

    @property
    def legend(self) -> str:
        return self.wording or self.topic[:1].upper() + self.topic[1:]


@dataclass(frozen=True)
class ItemGroup:
    title: str
    rows: list[ItemRow]


class MeasurementForm(forms.Form):
    taken_on = forms.DateField(label="Date taken", widget=DateInput(),
                               error_messages={"required": "Enter the date the questionnaire was taken.",
                                               "invalid": "Enter the date as YYYY-MM-DD."})
    visit = forms.ChoiceField(label="Visit", required=False,
                              help_text="Optional: the visit at which the patient filled it in.")
    accept_not_scorable = forms.BooleanField(
        required=False, label="Save anyway as not scorable",
        help_text="The answers are kept; no score is charted or used for progress.")

    def __init__(self, data: Any = None, *, instrument: Instrument, episode: Any, visits: list[Any],
                 previous_activities: list[str] | None = None, initial: dict[str, Any] | None = None) -> None:
        super().__init__(data, initial=initial)
        self.instrument = instrument
        self.episode = episode
        self.visits = {str(v.pk): v for v in visits}
        self.fields["visit"].choices = [("", "Not linked to a visit")] + [
            (str(v.pk), f"{v.visit_date:%Y-%m-%d} · {v.get_status_display().lower()}") for v in visits]
        # The PSFS: the patient names 1 to 5 activities, so its item count is not fixed.
        self.is_psfs = not all(s.min_items == s.max_items for s in instrument.scales)
        self.activity_rows = instrument.scales[0].max_items if self.is_psfs else 0
        self.offer_not_scorable = bool(self.data.get("accept_not_scorable")) if self.is_bound else False
        self.answers: Any = None
        self.activities: list[str] = []
        self.result: Any = None
        # The core's error paths ("answers[3]", "answers.symptom_severity[2]") -> the field to mark.
        self._field_for_path: dict[str, str] = {}
        if self.is_psfs:
            self._add_psfs_fields(instrument.scales[0], previous_activities or [])
        else:
            for scale in instrument.scales:
                for item in scale.items:
                    self.fields[self.item_field_name(scale, item)] = self._radio_field(item, tolerates_gaps(scale))

    # --- building ------------------------------------------------------------------------------

    def item_field_name(self, scale: Scale, item: Item) -> str:
        return f"{scale.code}_{item.number}" if self.instrument.is_multiscale else f"item_{item.number}"

    def _radio_field(self, item: Item, allow_gap: bool, *, required: bool = True, subject: str = "") -> forms.Field:
        options = item.option_wording or item.scale
        choices = [(str(o.value), o.label) for o in options]
        if allow_gap:
            choices.append((NOT_ANSWERED, "Not answered"))
        subject = subject or f"item {item.number} ({item.topic})"
        skipped = ", or “Not answered” if the patient skipped it" if allow_gap else ""
        return forms.ChoiceField(
            choices=choices, required=required, widget=forms.RadioSelect,
            label=f"{item.number}. {item.wording or item.topic}",
            error_messages={
                "required": f"Choose an answer for {subject}{skipped}.",
                "invalid_choice": f"{subject[:1].upper()}{subject[1:]} takes {item.min_answer} to "
                                  f"{item.max_answer}: choose one of the answers shown.",
            },
        )

    def _add_psfs_fields(self, scale: Scale, previous: list[str]) -> None:
        for index, item in enumerate(scale.items[:self.activity_rows], start=1):
            self.fields[f"activity_{index}"] = forms.CharField(
                label=f"Activity {index}", required=False, max_length=80,
                initial=previous[index - 1] if index <= len(previous) else "",
                help_text="In the patient's words, e.g. “lifting my grandchild”." if index == 1 else "")
            self.fields[f"rating_{index}"] = self._radio_field(item, True, required=False,
                                                              subject=f"activity {index}")

    # --- what the template draws ---------------------------------------------------------------

    @property
    def item_groups(self) -> list[ItemGroup]:
        if self.is_psfs:
            rows = [ItemRow(self[f"rating_{i}"], i, f"activity {i}", None, self[f"activity_{i}"])
                    for i in range(1, self.activity_rows + 1)]
            return [ItemGroup("Activities the patient finds hard (0 = unable, 10 = as before the problem)", rows)]
        groups = []
        for scale in self.instrument.scales:
            rows = [ItemRow(self[self.item_field_name(scale, item)], item.number, item.topic, item.wording)
                    for item in scale.items]
            title = scale.name if self.instrument.is_multiscale else ""
            groups.append(ItemGroup(title, rows))
        return groups

    @property
    def error_links(self) -> list[tuple[str, str]]:
        """(anchor, message) for the error summary, in the order of the form."""
        links = [("", str(e)) for e in self.non_field_errors()]
        for name in self.fields:
            # A radio group is reached through its first answer, so following the link focuses it.
            anchor = f"{self[name].auto_id}_0" if name in self._radio_names() else self[name].auto_id
            links += [(anchor, str(error)) for error in self.errors.get(name, [])]
        return links

    def _radio_names(self) -> set[str]:
        return {name for name, f in self.fields.items() if isinstance(f.widget, forms.RadioSelect)}

    def _answer_field_names(self) -> set[str]:
        return self._radio_names() | {name for name in self.fields if name.startswith("activity_")}

    # --- cleaning -------------------------------------------------------------------------------

    def clean_taken_on(self) -> dt.date:
        taken_on = self.cleaned_data["taken_on"]
        if taken_on > timezone.localdate():
            raise forms.ValidationError("The date taken is in the future; check the date.")
        onset = getattr(self.episode, "onset_date", None)
        if onset and taken_on < onset:
            raise forms.ValidationError(f"The date taken is before this episode's onset ({onset:%Y-%m-%d}); "
                                        "check the year.")
        return taken_on

    def clean_visit(self) -> Any:
        key = self.cleaned_data.get("visit") or ""
        return self.visits.get(key) if key else None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        answers = self._psfs_answers(data) if self.is_psfs else self._item_answers(data)
        if answers is None or any(name in self.errors for name in self._answer_field_names()):
            return data  # the items already say what to fix; the core would only repeat it
        try:
            self.result = services.check_measurement(self.instrument.code, answers,
                                                     accept_not_scorable=bool(data.get("accept_not_scorable")))
        except services.NotScorable as refused:
            self.offer_not_scorable = True
            gaps = self._unanswered_labels(answers)
            self.add_error(None, f"This questionnaire cannot be scored: {refused.message} "
                                 + (f"Unanswered: {gaps}. " if gaps else "")
                                 + "Answer them, or tick “Save anyway as not scorable” to keep the answers "
                                   "without a score.")
            return data
        except InputError as exc:
            self.add_error(self._field_for_path.get(exc.path), exc.message)
            return data
        self.answers = answers
        return data

    def _item_answers(self, data: dict[str, Any]) -> Any:
        by_scale: dict[str, list[int | None]] = {}
        for scale in self.instrument.scales:
            values: list[int | None] = []
            for index, item in enumerate(scale.items):
                name = self.item_field_name(scale, item)
                path = f"answers.{scale.code}[{index}]" if self.instrument.is_multiscale else f"answers[{index}]"
                self._field_for_path[path] = name
                raw = data.get(name)
                values.append(None if raw in (None, "", NOT_ANSWERED) else int(raw))
            by_scale[scale.code] = values
        return by_scale if self.instrument.is_multiscale else by_scale[self.instrument.scales[0].code]

    def _psfs_answers(self, data: dict[str, Any]) -> list[int | None] | None:
        ratings: list[int | None] = []
        self.activities = []
        for index in range(1, self.activity_rows + 1):
            name = (data.get(f"activity_{index}") or "").strip()
            rating = data.get(f"rating_{index}") or ""
            if f"rating_{index}" in self.errors:
                continue
            if not name and not rating:
                continue
            if not name:
                self.add_error(f"activity_{index}", f"Name activity {index}, or clear its rating.")
                continue
            if not rating:
                self.add_error(f"rating_{index}", f"Rate “{name}” from 0 to 10, or choose “Not answered”, "
                                                  "or clear its name.")
                continue
            self._field_for_path[f"answers[{len(ratings)}]"] = f"rating_{index}"
            ratings.append(None if rating == NOT_ANSWERED else int(rating))
            self.activities.append(name)
        if not ratings:
            if not any(name in self.errors for name in self._answer_field_names()):
                self.add_error("activity_1", "Name at least one activity the patient finds hard, and rate it.")
            return None
        return ratings

    def _unanswered_labels(self, answers: Any) -> str:
        if self.is_psfs:
            return ", ".join(f"“{name}”" for name, value in zip(self.activities, answers, strict=False)
                             if value is None)
        lists = answers if isinstance(answers, dict) else {self.instrument.scales[0].code: answers}
        labels = []
        for scale in self.instrument.scales:
            numbers = [str(item.number) for item, value in zip(scale.items, lists[scale.code], strict=False)
                       if value is None]
            if numbers:
                prefix = f"{scale.name.lower()} " if self.instrument.is_multiscale else ""
                labels.append(f"{prefix}item{'s' if len(numbers) > 1 else ''} {', '.join(numbers)}")
        return "; ".join(labels)


class MainMeasureForm(forms.Form):
    main_measure = forms.ChoiceField(label="Main measure", required=False)

    def __init__(self, *args: Any, suggestion: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        default_label = f"Default ({suggestion})" if suggestion else "Default"
        self.fields["main_measure"].choices = [("", default_label), *main_measure.choices()]
        self.fields["main_measure"].help_text = (
            "The questionnaire whose change judges progress (ready for active rehab, re-evaluation due).")


class WordingForm(forms.Form):
    instrument = forms.ChoiceField(label="Questionnaire")
    file = forms.FileField(label="Wording file (YAML or JSON)", required=False)
    text = forms.CharField(label="…or paste the wording", required=False,
                           widget=forms.Textarea(attrs={"rows": 10, "spellcheck": "false"}))
    licence_note = forms.CharField(label="Licence reference", required=False, max_length=200,
                                   help_text="e.g. the licence number and how long it runs.")

    def __init__(self, *args: Any, instruments: list[Instrument], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["instrument"].choices = [(i.code, f"{i.abbreviation} ({i.name})") for i in instruments]
        self.wording: dict[str, Any] | None = None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        upload, pasted = data.get("file"), (data.get("text") or "").strip()
        if upload is not None and pasted:
            self.add_error("text", "Give either a file or pasted text, not both.")
            return data
        if upload is None and not pasted:
            self.add_error("file", "Choose the wording file, or paste its text below.")
            return data
        if upload is not None:
            if upload.size > services.MAX_WORDING_FILE_BYTES:
                self.add_error("file", "That file is too large to be a questionnaire's wording; is it the right file?")
                return data
            try:
                text = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                self.add_error("file", "That file is not UTF-8 text; save it as YAML or JSON and try again.")
                return data
            where = "file"
        else:
            text, where = pasted, "text"
        code = data.get("instrument")
        if not code:
            return data
        try:
            self.wording = services.check_wording(code, text)
        except InputError as exc:
            at = f" (at {exc.path})" if exc.path else ""
            self.add_error(where, f"{exc.message}{at}")
        data["wording_text"] = text
        return data
