"""The audit log's patient directory (``palpate.audit.patients``): record numbers and names.

Only the clinic's own patients are ever looked up: another clinic's patient has no name here, and
a filter by its name or record number matches nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q

from palpate.patients.models import Patient


class PatientsForTheAuditLog:
    def matching(self, clinic_id: int, text: str) -> list[int]:
        words = text.lower().split()
        if not words:
            return []
        by_name = Q()
        for word in words:  # "garcia maria" and "maria garcia" both find Maria Garcia
            by_name &= Q(given_name__icontains=word) | Q(family_name__icontains=word)
        found = Patient.objects.filter(Q(clinic_id=clinic_id) & (Q(record_number__iexact=text.strip()) | by_name))
        return list(found.values_list("id", flat=True)[:500])

    def names(self, clinic_id: int, ids: Iterable[int]) -> dict[int, str]:
        wanted = {i for i in ids if i is not None}
        if not wanted:
            return {}
        rows = Patient.objects.filter(clinic_id=clinic_id, id__in=wanted).values_list(
            "id", "family_name", "given_name", "record_number")
        return {pk: f"{family}, {given} ({number})" for pk, family, given, number in rows}
