"""The owners' form for a new API token: for a member, or for a new system client."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.db.models import Exists, OuterRef

from palpate.clinics.models import Membership
from palpate.clinics.roles import Role
from palpate.interop.models import Scope, SystemClient
from palpate.interop.services import SYSTEM_CLIENT_ROLES

CLIENT_ROLE_WORDS = {
    Role.AUDITOR: "Read every record (a registry, an analyst)",
    Role.FRONT_DESK: "Read and register patients, no clinical records (a referral source)",
    Role.ASSISTANT: "Read every record and register patients (a partner hospital)",
}


class MemberChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        client = getattr(obj, "is_client", False)
        kind = "system client" if client else obj.get_role_display()
        return f"{obj.user.display_name()} ({kind})"


class TokenForm(forms.Form):
    label = forms.CharField(max_length=120, required=False, help_text="What the token is for, e.g. 'Registry upload'.")
    member = MemberChoice(queryset=Membership.objects.none(), required=False, empty_label="A new system client…",
                          help_text="The token acts as this member, with at most the member's rights.")
    client_name = forms.CharField(label="New system client's name", max_length=120, required=False)
    client_role = forms.ChoiceField(label="What the system client may do", required=False,
                                    choices=[(role.value, CLIENT_ROLE_WORDS[role]) for role in SYSTEM_CLIENT_ROLES])
    scope = forms.ChoiceField(choices=Scope.choices, initial=Scope.READ)
    days = forms.IntegerField(label="Valid for (days)", min_value=1, initial=90)

    def __init__(self, *args: Any, clinic: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = (  # type: ignore[attr-defined]
            Membership.objects.filter(clinic=clinic, is_active=True).select_related("user")
            .annotate(is_client=Exists(SystemClient.objects.filter(user_id=OuterRef("user_id"))))
            .order_by("user__username"))
        self.fields["days"].max_value = settings.PALPATE_API_TOKEN_MAX_DAYS  # type: ignore[attr-defined]
        self.fields["days"].widget.attrs["max"] = settings.PALPATE_API_TOKEN_MAX_DAYS
        self.fields["days"].initial = settings.PALPATE_API_TOKEN_DEFAULT_DAYS

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("member") is None and not (data.get("client_name") or "").strip():
            self.add_error("member", "Choose the member the token acts as, or name a new system client.")
        if data.get("member") is not None and (data.get("client_name") or "").strip():
            self.add_error("client_name", "Either choose a member or name a new system client, not both.")
        return data
