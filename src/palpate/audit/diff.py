"""Old and new values of a model row, for audit events."""

from __future__ import annotations

from typing import Any

from django.db import models

# Bookkeeping columns that change on every save and say nothing about what the user did.
IGNORED = {"id", "clinic", "created_at", "updated_at"}


def snapshot(instance: models.Model, fields: list[str] | None = None) -> dict[str, Any]:
    names = fields or [f.name for f in instance._meta.concrete_fields if f.name not in IGNORED]
    values: dict[str, Any] = {}
    for name in names:
        field = instance._meta.get_field(name)
        values[name] = getattr(instance, field.attname)
    return values


def changed(old: dict[str, Any], new: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the fields that differ, as (old values, new values)."""
    keys = [k for k in new if old.get(k) != new.get(k)]
    return {k: old.get(k) for k in keys}, {k: new[k] for k in keys}
