"""Clinic settings for owners: sign-in rules, the payer unit rule and the planner's thresholds."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from django import forms

from palpate.clinics.models import Clinic
from palpate.clinics.roles import Role
from palpate.core.errors import InputError
from palpate.core.policy import (
    check_setting,
    default_policy,
    inconsistencies,
    policy_settings,
    setting_bound,
)
from palpate.lib.text import require_storable_text

POLICY_PREFIX = "policy_"


class ClinicSettingsForm(forms.ModelForm):
    # Asked only when two-factor sign-in is being turned off: a borrowed or stolen session alone
    # must not be enough to weaken every member's sign-in.
    confirm_password = forms.CharField(
        label="Your password (to turn two-factor sign-in off)", required=False, strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text="Needed only when you turn off the two-factor requirement.")

    class Meta:
        model = Clinic
        fields = ["name", "address", "phone", "idle_timeout_minutes", "session_max_hours", "require_two_factor",
                  "payer_unit_rule", "sign_requires_assessment_and_plan"]
        labels = {"idle_timeout_minutes": "Sign out after (minutes idle)", "payer_unit_rule": "Timed-code unit rule",
                  "session_max_hours": "Sign out after (hours since sign-in)",
                  "sign_requires_assessment_and_plan": "A visit note needs its assessment and plan to be signed"}
        widgets = {"address": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.requires_two_factor_now = self.instance.require_two_factor
        require_storable_text(self)
        current = self.instance.policy_overrides or {}
        self.policy_settings = policy_settings()
        for setting in self.policy_settings:
            field_class = forms.IntegerField if setting.type == "int" else forms.FloatField
            source = "policy (no published source)" if setting.sources == ("policy",) else "; ".join(setting.sources)
            default = int(setting.default) if setting.type == "int" else setting.default
            help_text = f"Default {default:g} {setting.unit}. Source: {source}."
            if setting.unverified:
                help_text += " UNVERIFIED: no retrieved source fixes this number; review it for your clinic."
            help_text += f" Safe bound: {setting.bound_text()}."
            # The bound is checked by the core (clean), so the error names it and why it is there.
            self.fields[POLICY_PREFIX + setting.key] = field_class(
                label=f"{setting.label} ({setting.unit})", required=False, initial=current.get(setting.key),
                help_text=help_text,
                widget=forms.NumberInput(attrs={"placeholder": f"{default:g} (default)", "step": "any" if setting.type != "int" else "1"}),
            )

    def policy_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name.startswith(POLICY_PREFIX)]

    def plain_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if not name.startswith(POLICY_PREFIX)]

    def two_factor_turned_off(self) -> bool:
        return bool(self.requires_two_factor_now and not self.cleaned_data.get("require_two_factor"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.requires_two_factor_now and not data.get("require_two_factor"):
            password = data.get("confirm_password") or ""
            if not password:
                self.add_error("confirm_password", "Enter your password to turn off required two-factor sign-in.")
            elif not self.user.check_password(password):
                self.add_error("confirm_password", "That is not your password; two-factor sign-in stays required.")
        overrides = {
            name[len(POLICY_PREFIX):]: value for name, value in data.items()
            if name.startswith(POLICY_PREFIX) and value is not None
        }
        # Planning policy §1.7: a setting may make the policy stricter, never looser than its safe
        # bound. The core's check_setting refuses a value outside it; the error names the bound.
        # Every problem in one round: each value outside its bound on its field, and the order of
        # the settings checked with the values that are within their bounds (the others would be
        # refused anyway), each pair out of order on the field of its lower setting.
        within: dict[str, float] = {}
        for key, value in overrides.items():
            try:
                within[key] = check_setting(key, value)
            except InputError:
                setting = setting_bound(key)
                shown = int(value) if setting.type == "int" and float(value).is_integer() else value
                self.add_error(POLICY_PREFIX + key, (
                    f"{shown:g} {setting.unit} is outside the safe bound of {setting.bound_text()}. A clinic may "
                    "make the policy stricter, never looser (planning policy, section 1.7): choose a value within "
                    "it, or leave the box empty for the default."))
        for problem in inconsistencies(replace(default_policy(), **within)):
            field = next((POLICY_PREFIX + k for k in problem.keys if k in within), None)
            self.add_error(field if field in self.fields else None, problem.message + ".")
        self.cleaned_policy = overrides
        return data


class InviteForm(forms.Form):
    email = forms.EmailField(label="Email address")
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    role = forms.ChoiceField(choices=Role.choices, initial=Role.THERAPIST)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        require_storable_text(self)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)
