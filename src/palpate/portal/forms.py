"""Forms of the patient side (plain words, large targets) and of the staff pages about it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone

from palpate.core import measures
from palpate.core.warning_signs import WarningSign
from palpate.outcomes.forms import MeasurementForm
from palpate.portal.models import CHECK_IN_DELAY_MAX_HOURS, CHECK_IN_DELAY_MIN_HOURS, PortalSettings
from palpate.reported.models import Programme, Relief
from palpate.reported.services import SORENESS_HOURS_MAX, CheckInAnswer, LogEntry

NUMBER = {"inputmode": "numeric", "pattern": "[0-9]*"}
SIDE_CHOICES = [("left", "Left leg"), ("right", "Right leg"), ("both", "Both legs")]


# -- the patient side -----------------------------------------------------------------------------------


class SignInForm(forms.Form):
    email = forms.EmailField(label="Email address", widget=forms.EmailInput(attrs={"autocomplete": "email"}),
                             error_messages={"required": "Enter your email address.",
                                             "invalid": "Enter your email address, like name@example.org."})
    password = forms.CharField(label="Password", strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
                               error_messages={"required": "Enter your password."})


class NewPasswordForm(forms.Form):
    password = forms.CharField(label="Choose a password", strip=False,
                               help_text="At least 10 characters. A few words you will remember work well.",
                               widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                               error_messages={"required": "Choose a password."})
    again = forms.CharField(label="Type the same password again", strip=False,
                            widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                            error_messages={"required": "Type the password a second time."})


class CheckInForm(forms.Form):
    soreness = forms.TypedChoiceField(
        label="How sore were you in the day or two after your visit?", coerce=int, widget=forms.RadioSelect,
        choices=[(str(n), str(n)) for n in range(11)],
        help_text="0 means not sore at all, 10 means as sore as you can imagine.",
        error_messages={"required": "Choose a number from 0 to 10 (0 if you were not sore)."})
    soreness_hours = forms.IntegerField(
        label="About how many hours did the soreness last?", required=False, min_value=0,
        max_value=SORENESS_HOURS_MAX, widget=forms.NumberInput(attrs=NUMBER),
        help_text="A day is 24 hours. If you are still sore, count the hours since your visit. Leave it empty if "
                  "you were not sore.",
        error_messages={"invalid": "Write a number of hours, like 24.",
                        "min_value": "Write 0 or more hours.", "max_value": "Write at most 336 hours (two weeks)."})
    relief = forms.ChoiceField(label="Did the treatment help?", widget=forms.RadioSelect, choices=Relief.choices,
                               error_messages={"required": "Choose how much the treatment helped."})
    programme = forms.ChoiceField(label="How did your home exercises go?", widget=forms.RadioSelect,
                                  choices=Programme.choices,
                                  error_messages={"required": "Choose how your home exercises went."})
    warning_signs = forms.MultipleChoiceField(
        label="Since your visit, have you had any of these?", required=False, widget=forms.CheckboxSelectMultiple,
        help_text="Tick any you have had. If none, leave them all empty.")
    patient_note = forms.CharField(label="Anything else you want your therapist to know? (optional)",
                                   required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, signs: tuple[WarningSign, ...], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.signs = signs
        self.fields["warning_signs"].choices = [(s.code, s.question) for s in signs]
        for item in signs:
            if item.sides:
                self.fields[f"side_{item.code}"] = forms.ChoiceField(
                    label="Which leg?", required=False, choices=SIDE_CHOICES, widget=forms.RadioSelect)

    def side_fields(self) -> dict[str, forms.BoundField]:
        return {s.code: self[f"side_{s.code}"] for s in self.signs if s.sides}

    def answer(self) -> CheckInAnswer:
        data = self.cleaned_data
        ticked = []
        for code in data.get("warning_signs") or []:
            side = data.get(f"side_{code}") or ""
            ticked.append({"code": code, **({"side": side} if side else {})})
        return CheckInAnswer(soreness=data["soreness"], soreness_hours=data.get("soreness_hours"),
                             relief=data["relief"], programme=data["programme"], warning_signs=tuple(ticked),
                             patient_note=data.get("patient_note") or "")


PAIN_CHOICES = [("", "—")] + [(str(n), str(n)) for n in range(11)]


class ExerciseLogForm(forms.Form):
    """One day of the home programme: for each exercise, done or not, sets, and pain during it."""

    def __init__(self, *args: Any, exercises: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.exercises = exercises
        for item in exercises:
            code = item.exercise
            self.fields[f"done_{code}"] = forms.ChoiceField(
                label=f"Did you do “{item.name}”?", widget=forms.RadioSelect,
                choices=[("yes", "Yes, I did it"), ("no", "No, not today")],
                error_messages={"required": f"Choose yes or no for “{item.name}”."})
            self.fields[f"sets_{code}"] = forms.IntegerField(
                label="How many sets or rounds?", required=False, min_value=0, max_value=50,
                widget=forms.NumberInput(attrs=NUMBER),
                error_messages={"invalid": "Write a number, like 2.", "min_value": "Write 0 or more.",
                                "max_value": "Write at most 50."})
            self.fields[f"pain_{code}"] = forms.TypedChoiceField(
                label="Pain during it (0 = none, 10 = worst)", required=False, choices=PAIN_CHOICES, coerce=int,
                empty_value=None)

    def rows(self) -> list[tuple[Any, forms.BoundField, forms.BoundField, forms.BoundField]]:
        return [(item, self[f"done_{item.exercise}"], self[f"sets_{item.exercise}"], self[f"pain_{item.exercise}"])
                for item in self.exercises]

    def entries(self) -> list[LogEntry]:
        data = self.cleaned_data
        return [LogEntry(item.exercise, data[f"done_{item.exercise}"] == "yes", data.get(f"sets_{item.exercise}"),
                         data.get(f"pain_{item.exercise}")) for item in self.exercises]


class ReminderForm(forms.Form):
    enabled = forms.BooleanField(label="Email me a reminder on days I have not logged my exercises", required=False)
    hour = forms.TypedChoiceField(label="At about", coerce=int,
                                  choices=[(str(h), f"{h:02d}:00") for h in range(6, 23)])


class PatientQuestionnaireForm(MeasurementForm):
    """The clinic's questionnaire form without the clinic's fields (date, visit, save as not scorable)."""

    def __init__(self, data: Any = None, *, instrument: measures.Instrument, episode: Any,
                 previous_activities: list[str] | None = None) -> None:
        super().__init__(data, instrument=instrument, episode=episode, visits=[],
                         previous_activities=previous_activities, initial={"taken_on": timezone.localdate()})
        for name in ("taken_on", "visit", "accept_not_scorable"):
            del self.fields[name]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.offer_not_scorable:
            # The clinic's wording offers to save it as not scorable; a patient just answers more.
            self.errors.pop("__all__", None)
            self.add_error(None, "Please answer more of the questions, so that your answers can be scored. "
                                 "Choose “Not answered” only for a question that does not apply to you.")
            self.offer_not_scorable = False
        return data


# -- the staff pages -----------------------------------------------------------------------------------


class InviteForm(forms.Form):
    email = forms.EmailField(label="Patient's email address",
                             help_text="The invitation link goes to this address; it works once.",
                             error_messages={"required": "Enter the patient's email address.",
                                             "invalid": "Enter an email address, like name@example.org."})


class AssignForm(forms.Form):
    episode = forms.TypedChoiceField(label="Episode of care", coerce=int)
    instrument = forms.ChoiceField(label="Questionnaire")
    due_on = forms.DateField(label="Wanted by", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                             error_messages={"required": "Enter the date it is wanted by (e.g. the day before "
                                                         "the next visit).", "invalid": "Enter the date as YYYY-MM-DD."})
    repeat_days = forms.IntegerField(label="Repeat every (days)", required=False, min_value=1, max_value=90,
                                     help_text="Leave empty for once; 14 for every two weeks.")

    def __init__(self, *args: Any, episodes: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["episode"].choices = [(e.pk, f"{e.diagnosis} ({e.icd10_code})") for e in episodes]
        self.fields["instrument"].choices = [(i.code, f"{i.abbreviation} · {i.name}") for i in measures.instruments()]
        if not self.is_bound:
            self.initial.setdefault("due_on", timezone.localdate() + dt.timedelta(days=2))


class AcknowledgeForm(forms.Form):
    note = forms.CharField(label="What did you do about it?", widget=forms.Textarea(attrs={"rows": 2}),
                           help_text="For example: called the patient; DVT screen today before any leg work.",
                           error_messages={"required": "Write what you did about it."})


class PortalSettingsForm(forms.ModelForm):
    class Meta:
        model = PortalSettings
        fields = ["phone", "emergency_number", "check_ins", "check_in_delay_hours", "link_valid_days"]
        labels = {"check_in_delay_hours": f"Send the check-in this many hours after signing "
                                          f"({CHECK_IN_DELAY_MIN_HOURS}-{CHECK_IN_DELAY_MAX_HOURS})"}
