"""The discharge form: shapes only; the rules are in ``discharge.services``."""

from __future__ import annotations

from typing import Any

from django import forms

from palpate.discharge.models import Discharge
from palpate.discharge.services import DischargeInput, check_discharge_input
from palpate.lib import vocabulary


class DischargeForm(forms.Form):
    reason = forms.ChoiceField(label="Reason for discharge", required=False)
    reason_detail = forms.CharField(label="Details", required=False, widget=forms.Textarea(attrs={"rows": 3}),
                                    help_text="Required with “Other reason”; otherwise optional.")
    home_program_notes = forms.CharField(label="Home programme notes", required=False,
                                         widget=forms.Textarea(attrs={"rows": 3}),
                                         help_text="Anything the patient should change or add when continuing.")

    def __init__(self, *args: Any, goals: list[dict[str, Any]], home_program: list[dict[str, Any]],
                 kept: list[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].choices = vocabulary.choices("discharge_reason", vocabulary.CHOOSE)
        self.goals, self.home_program = goals, home_program
        outcome_choices = [("", "Not judged yet"), *vocabulary.choices("goal_outcome")]
        for index, goal in enumerate(goals):
            self.fields[f"goal_{index}"] = forms.ChoiceField(
                label=goal.get("text", ""), choices=outcome_choices, required=False, initial=goal.get("outcome", ""))
        for index, exercise in enumerate(home_program):
            self.fields[f"keep_{index}"] = forms.BooleanField(
                label=exercise.get("name") or vocabulary.label(exercise.get("exercise")), required=False,
                initial=index in kept, help_text=exercise.get("dose", ""))

    @classmethod
    def initial_for(cls, discharge: Discharge | None) -> dict[str, Any]:
        if discharge is None:
            return {}
        return {"reason": discharge.reason, "reason_detail": discharge.reason_detail,
                "home_program_notes": discharge.home_program_notes}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        # The service's own check (lengths, known outcomes) on what the fields let through, in the same
        # round as the fields' errors; each problem on its field, once.
        for name, message in check_discharge_input(self.value(), len(self.goals)).items():
            if name not in self.errors:
                self.add_error(name if name in self.fields else None, message)
        return data

    def goal_fields(self) -> list[forms.BoundField]:
        return [self[f"goal_{i}"] for i in range(len(self.goals))]

    def keep_fields(self) -> list[forms.BoundField]:
        return [self[f"keep_{i}"] for i in range(len(self.home_program))]

    def value(self) -> DischargeInput:
        data = self.cleaned_data
        return DischargeInput(
            reason=data.get("reason") or "", reason_detail=data.get("reason_detail") or "",
            goal_outcomes=[data.get(f"goal_{i}") or "" for i in range(len(self.goals))],
            kept_exercises=[i for i in range(len(self.home_program)) if data.get(f"keep_{i}")],
            home_program_notes=data.get("home_program_notes") or "",
        )
