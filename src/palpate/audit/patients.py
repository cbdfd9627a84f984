"""Who a patient is, for the audit log: a slot the patients app fills (a layer above this one).

The log filters by a patient's record number or name and shows each event's patient by name; the
trail itself stores only the patient's id. ``PatientsConfig.ready`` sets the directory; until it
does (the audit app alone, as in its own tests) no name is known and the filters match nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol


class PatientDirectory(Protocol):
    def matching(self, clinic_id: int, text: str) -> list[int]:
        """Ids of the clinic's patients whose record number is ``text`` or whose name contains it."""

    def names(self, clinic_id: int, ids: Iterable[int]) -> dict[int, str]:
        """"Family, Given (record number)" of each of the clinic's patients among ``ids``."""


class _NoPatients:
    def matching(self, clinic_id: int, text: str) -> list[int]:
        return []

    def names(self, clinic_id: int, ids: Iterable[int]) -> dict[int, str]:
        return {}


_directory: PatientDirectory = _NoPatients()


def set_directory(directory: PatientDirectory) -> None:
    global _directory
    _directory = directory


def directory() -> PatientDirectory:
    return _directory
