"""The plan of care for an episode.

- ``goals``: ``[{"term": "short"|"long", "text", "target_date"?}]``
- ``items``: the accepted soft-tissue items ``[{"technique", "region", "side"?, "pressure", "minutes",
  "for", "rationale", "evidence": [...], "origin": "engine"|"edited"|"added"}]``
- ``complementary``: ``[{"therapy", "why"}]``; ``home_program``: ``[{"exercise", "dose", ...}]``
- ``engine_output``: the core's full plan answer the suggestions came from (``kb_version`` inside)
- ``overrides``: safety restrictions the therapist overrode ``[{"restriction": {...}, "item": {...},
  "reason", "by", "at"}]``; each is also an audit event.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from palpate.web.models_common import SignedRecord


class PlanOfCare(SignedRecord):
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="plans")
    episode = models.ForeignKey("patients.Episode", on_delete=models.PROTECT, related_name="plans")
    evaluation = models.ForeignKey("evaluations.Evaluation", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    start_date = models.DateField()
    goals = models.JSONField(default=list, blank=True)
    frequency_per_week = models.PositiveSmallIntegerField(default=2)
    duration_weeks = models.PositiveSmallIntegerField(default=6)
    items = models.JSONField(default=list, blank=True)
    complementary = models.JSONField(default=list, blank=True)
    home_program = models.JSONField(default=list, blank=True)
    engine_output = models.JSONField(default=dict, blank=True)
    overrides = models.JSONField(default=list, blank=True)
    recertify_by = models.DateField(null=True, blank=True)
    reevaluate_by = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-start_date", "-id"]
        indexes = [models.Index(fields=["clinic", "episode", "status"], name="plan_clinic_episode")]

    def __str__(self) -> str:
        return f"Plan of care from {self.start_date}"
