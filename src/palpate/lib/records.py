"""Optimistic locking and sign-locking for clinical drafts (evaluations, plans, visit notes).

Every edit form carries the ``version`` it started from. ``claim_version`` bumps it atomically in
the database only if nobody saved in between; otherwise the save is refused with ``StaleEdit``
and the view shows the form again with everything the user typed, plus what changed.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import models


class StaleEdit(Exception):
    """Someone else saved this draft after you opened it."""

    def __init__(self, current_version: int) -> None:
        super().__init__("This record was changed by someone else after you opened it.")
        self.current_version = current_version


class SignedAndLocked(PermissionDenied):
    pass


def check_editable(record: Any) -> None:
    if record.is_signed:
        raise SignedAndLocked("This record is signed and locked; add a signed addendum instead.")


def version_number(submitted_version: object) -> int:
    """The version a form was opened on; -1 (never a record's) for anything that is not a number."""
    try:
        return int(str(submitted_version))
    except (TypeError, ValueError):
        return -1


def claim_version(record: models.Model, submitted_version: int | str | None) -> None:
    """Take the next version of ``record`` or raise StaleEdit. Call inside the save's transaction."""
    expected = version_number(submitted_version)
    model = type(record)
    updated = model._default_manager.filter(pk=record.pk, version=expected).update(version=expected + 1)
    if updated != 1:
        current = model._default_manager.filter(pk=record.pk).values_list("version", flat=True).first()
        raise StaleEdit(int(current or 0))
    record.version = expected + 1  # type: ignore[attr-defined]
