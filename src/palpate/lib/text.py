"""Text a database can store.

JSON allows a lone UTF-16 surrogate (``"\\ud800"``) that no UTF-8 database column can hold: saved as
it is, it fails at the insert (a 500). Browsers never send one (forms are UTF-8), but the JSON API
can; every form that the API also feeds checks its text fields with :func:`require_storable_text`.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError


def has_lone_surrogate(value: str) -> bool:
    return any("\ud800" <= char <= "\udfff" for char in value)


def storable_text(value: Any) -> None:
    """A field validator: refuses text with a lone surrogate, saying what to fix."""
    if isinstance(value, str) and has_lone_surrogate(value):
        raise ValidationError("This text contains an invalid character (a lone UTF-16 surrogate); "
                              "remove it or send the text as valid UTF-8.", code="invalid_character")


def require_storable_text(form: forms.BaseForm) -> None:
    """Add :func:`storable_text` to every text field of ``form`` (call it in the form's ``__init__``)."""
    for field in form.fields.values():
        if isinstance(field, forms.CharField | forms.ChoiceField):
            field.validators.append(storable_text)
