from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm

from palpate.accounts.models import User
from palpate.lib.npi import validate_npi
from palpate.lib.text import require_storable_text


class SignInForm(AuthenticationForm):
    remember = forms.BooleanField(
        label="Keep me signed in on this device", required=False,
        help_text="Only on a device no one else uses. Otherwise you are signed out when the browser closes.")


class TokenForm(forms.Form):
    token = forms.CharField(
        label="6-digit code from your authenticator app",
        min_length=6,
        max_length=6,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )

    def clean_token(self) -> str:
        token = self.cleaned_data["token"].strip()
        if not token.isdigit():
            raise forms.ValidationError("Enter the 6 digits shown in your authenticator app.")
        return token


class RecoveryCodeForm(forms.Form):
    code = forms.CharField(
        label="Recovery code", max_length=40,
        help_text="One of the codes you saved when you set up two-factor sign-in, e.g. 7KQ2-M9XD-4TPA-H3VR. "
                  "Each works once.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True, "spellcheck": "false"}))


class PasswordConfirmForm(forms.Form):
    """Asks for the signed-in person's password again before something sensitive."""

    password = forms.CharField(label="Your password", strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError("That is not your current password.")
        return str(password)


class ProfileForm(forms.ModelForm):
    # Typed as printed ("1234 567 893"); the model checks the ten digits and the check digit.
    npi = forms.CharField(label="NPI", max_length=20, required=False,
                          help_text=User._meta.get_field("npi").help_text)

    class Meta:
        model = User
        fields = ["first_name", "last_name", "email", "credentials", "npi"]
        labels = {"email": "Email (for password resets)", "credentials": "Credentials"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        require_storable_text(self)

    def clean_email(self) -> str:
        email = User.objects.normalize_email(self.cleaned_data.get("email") or "").strip()
        # One account per address: a password reset or an invitation must find exactly one person.
        if email and User.objects.filter(email__iexact=email).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError("Another account already uses this email address.")
        return email

    def clean_npi(self) -> str:
        npi = "".join((self.cleaned_data.get("npi") or "").replace("-", " ").split())
        if npi:
            validate_npi(npi)
        return npi


class NewAccountForm(forms.Form):
    """The invited person's own account: a username and a password (Django's validators)."""

    first_name = forms.CharField(max_length=150)
    last_name = forms.CharField(max_length=150, required=False)
    username = forms.RegexField(
        max_length=150, regex=r"^[\w.@+-]+\Z",
        help_text="What you type to sign in: letters, digits and . @ + - _ only.",
        error_messages={"invalid": "Use letters, digits and . @ + - _ only (no spaces)."},
        widget=forms.TextInput(attrs={"autocomplete": "username"}))
    password1 = forms.CharField(label="Password", strip=False,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                                help_text=" ".join(password_validation.password_validators_help_texts()))
    password2 = forms.CharField(label="Password again", strip=False,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def __init__(self, *args: Any, email: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.email = email
        require_storable_text(self)

    def clean_username(self) -> str:
        username = str(self.cleaned_data["username"])
        if User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError("That username is taken; choose another.")
        return username

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, second = data.get("password1"), data.get("password2")
        if first and second and first != second:
            self.add_error("password2", "The two passwords differ; type the same password twice.")
        elif first:
            candidate = User(username=data.get("username", ""), first_name=data.get("first_name", ""),
                             last_name=data.get("last_name", ""), email=self.email)
            try:
                password_validation.validate_password(first, candidate)
            except forms.ValidationError as problems:
                self.add_error("password1", problems)
        return data
