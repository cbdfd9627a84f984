from __future__ import annotations

from typing import Any

from django import forms


class ExportForm(forms.Form):
    patient = forms.IntegerField(required=False, min_value=1, max_value=2**62, label="Patient id",
                                 help_text="Only this patient's events.")
    date_from = forms.DateField(required=False, label="From (date)", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label="To (date, inclusive)", widget=forms.DateInput(attrs={"type": "date"}))
    format = forms.ChoiceField(choices=[("csv", "CSV (spreadsheet)"), ("json", "JSON")], initial="csv")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.errors:
            if data.get("patient") is None and data.get("date_from") is None and data.get("date_to") is None:
                raise forms.ValidationError("Choose a patient, a date range, or both.")
            if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
                self.add_error("date_to", "The end date is before the start date.")
        return data
