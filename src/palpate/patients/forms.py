from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from palpate.core import episodes
from palpate.core.errors import InputError
from palpate.core.vocabulary import join_or
from palpate.lib import vocabulary
from palpate.lib.text import require_storable_text
from palpate.patients.models import ICD10CM_VALIDATOR, Episode, Patient


class DateInput(forms.DateInput):
    input_type = "date"


class PatientForm(forms.ModelForm):
    class Meta:
        model = Patient
        fields = ["given_name", "family_name", "date_of_birth", "sex", "record_number", "phone", "email", "address"]
        widgets = {"date_of_birth": DateInput(), "address": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args: Any, clinic: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.clinic = clinic
        self.fields["record_number"].required = False
        require_storable_text(self)  # the API feeds this form JSON, which may carry a lone surrogate

    def clean_date_of_birth(self) -> dt.date:
        dob = self.cleaned_data["date_of_birth"]
        today = dt.date.today()
        if dob > today:
            raise forms.ValidationError("The date of birth is in the future; check the year.")
        if dob < today.replace(year=today.year - 120):
            raise forms.ValidationError("That date of birth makes the patient over 120; check the year.")
        return dob

    def clean_record_number(self) -> str:
        number = self.cleaned_data.get("record_number", "").strip()
        if number:
            clash = Patient.objects.filter(clinic=self.clinic, record_number=number)
            if self.instance.pk:
                clash = clash.exclude(pk=self.instance.pk)
            if clash.exists():
                raise forms.ValidationError(f"Record number {number} is already used by another patient in this clinic.")
        return number


class EpisodeForm(forms.ModelForm):
    condition = forms.ChoiceField(choices=())
    body_region = forms.ChoiceField(label="Body region", choices=())
    side = forms.ChoiceField(choices=vocabulary.side_choices(), required=False)

    class Meta:
        model = Episode
        fields = [
            "condition", "body_region", "side", "diagnosis", "icd10_code", "onset_date",
            "referral_source", "payer", "payer_name",
        ]
        widgets = {"onset_date": DateInput()}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["condition"].choices = vocabulary.choices("condition", vocabulary.CHOOSE)
        self.fields["body_region"].choices = [vocabulary.CHOOSE, *vocabulary.region_choices()]
        self.fields["icd10_code"].widget.attrs["placeholder"] = "e.g. M54.50"
        require_storable_text(self)

    def clean_icd10_code(self) -> str:
        return str(self.cleaned_data["icd10_code"]).strip().upper()

    def clean_onset_date(self) -> dt.date:
        onset = self.cleaned_data["onset_date"]
        if onset > dt.date.today():
            raise forms.ValidationError("The onset date is in the future.")
        return onset

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        vocabulary.check_side(self, data.get("body_region"), data.get("side"))
        condition, region, code = data.get("condition"), data.get("body_region"), data.get("icd10_code")
        if condition and region:
            problem = episode_region_problem(condition, region)
            if problem:
                self.add_error("body_region", problem)
        if condition and code and "icd10_code" not in self.errors and _looks_like_icd10(code):
            problem = episode_icd10_problem(condition, code)
            if problem:
                self.add_error("icd10_code", problem)
        return data


def _looks_like_icd10(code: str) -> bool:
    """The model's own pattern check comes first (its message says how a code is written)."""
    try:
        ICD10CM_VALIDATOR(code)
    except ValidationError:
        return False
    return True


def episode_region_problem(condition: str, region: str) -> str:
    """Why a condition cannot be at a region, in words that name the regions that fit ("" if it can).

    The rule is the core's (``core.episodes``, planning policy §2); the words are the vocabulary's.
    """
    if episodes.condition_region_problem(condition, region) is None:
        return ""
    allowed = [vocabulary.label(r).lower() for r in episodes.allowed_regions(condition)]
    return (f"{vocabulary.label(condition)} does not occur at the {vocabulary.label(region).lower()}: choose "
            f"{join_or(allowed)} (planning policy §2), or the condition that fits this region.")


def episode_icd10_problem(condition: str, code: str) -> str:
    """Why an ICD-10-CM code does not fit the condition's family, naming the codes that do ("" if it fits)."""
    try:
        fit = episodes.icd10_fit(condition, code)
    except InputError as error:
        return error.message
    if fit.fits:
        return ""
    listed = "; ".join(f"{entry.prefix}… ({entry.label}{', UNVERIFIED' if entry.status == 'UNVERIFIED' else ''})"
                       for entry in fit.family)
    return f"{fit.code} is not a code for {vocabulary.label(condition).lower()}: use a code starting {listed}."
