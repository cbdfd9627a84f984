"""The plan of care for an episode.

- ``goals``: ``[{"term": "short"|"long", "text", "target_date"?}]``
- ``items``: the accepted soft-tissue items ``[{"technique", "region", "side"?, "pressure", "minutes",
  "for", "rationale", "evidence": [...], "cpt", "origin": "engine"|"edited"|"added", "suggestion"?,
  "note"?}]``; ``suggestion`` is the item's position in ``screen_result["plan"]`` when it started as one
- ``complementary``: ``[{"therapy", "label", "why", "cpt"?, "origin"}]`` (applied at the episode's region);
  ``home_program``: ``[{"exercise", "name", "region"?, "side"?, "dose", "instructions", "origin"}]``
  (``region``: the engine's, else the library's first; older plans lack it)
- ``screen_result``: the core's full plan answer the suggestions came from (``kb_version`` inside), plus
  ``request`` (what the engine was asked) and ``ran_on``; its ``restrictions`` are what every item is
  checked against for as long as the plan lives
- ``overrides``: safety restrictions the therapist overrode ``[{"restriction": {...}, "item": {...},
  "reason", "by", "at"}]``, for a soft-tissue item, a complementary therapy or a home exercise
  (``item`` in ``core.safety``'s shape); each is also an audit event (``plan.override_restriction``).
  Once the plan is signed they carry into the visits under it while the screen at the item's
  place is unchanged (``visits.services``).

A plan is edited as a draft, then signed and locked. Signing a newer plan for the episode
supersedes the older ones (``superseded_by``): they stay in the record, read-only.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from palpate.lib.models_common import SignedAddendum, SignedRecord


class PlanOfCare(SignedRecord):
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="plans")
    episode = models.ForeignKey("patients.Episode", on_delete=models.PROTECT, related_name="plans")
    evaluation = models.ForeignKey("evaluations.Evaluation", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # Empty on a draft until the therapist chooses it; signing fills in the signing day.
    start_date = models.DateField(null=True, blank=True)
    goals = models.JSONField(default=list, blank=True)
    frequency_per_week = models.PositiveSmallIntegerField(default=2)
    duration_weeks = models.PositiveSmallIntegerField(default=6)
    items = models.JSONField(default=list, blank=True)
    complementary = models.JSONField(default=list, blank=True)
    home_program = models.JSONField(default=list, blank=True)
    screen_result = models.JSONField(default=dict, blank=True)
    overrides = models.JSONField(default=list, blank=True)
    recertify_by = models.DateField(null=True, blank=True)
    reevaluate_by = models.DateField(null=True, blank=True)
    superseded_by = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-start_date", "-id"]
        indexes = [
            models.Index(fields=["clinic", "episode", "status"], name="plan_clinic_episode"),
            # Today's re-evaluations and re-certifications due, in date order.
            models.Index(fields=["clinic", "status", "reevaluate_by"], name="plan_clinic_reevaluate"),
            models.Index(fields=["clinic", "status", "recertify_by"], name="plan_clinic_recertify"),
        ]

    def __str__(self) -> str:
        if self.start_date:
            return f"Plan of care from {self.start_date}"
        return f"Draft plan of care of {self.created_at:%Y-%m-%d}" if self.created_at else "Draft plan of care"

    @property
    def is_superseded(self) -> bool:
        return self.superseded_by_id is not None

    @property
    def is_editable(self) -> bool:
        return not self.is_signed and not self.is_superseded

    @property
    def session(self) -> str:
        """The engine's session verdict when the plan was started: proceed, modify or hold."""
        return str(self.screen_result.get("session") or "")

    @property
    def restrictions(self) -> list[dict[str, Any]]:
        return list(self.screen_result.get("restrictions") or [])


class PlanAddendum(SignedAddendum):
    """A signed correction to a signed plan of care (``lib.models_common.SignedAddendum``)."""

    plan = models.ForeignKey(PlanOfCare, on_delete=models.PROTECT, related_name="addenda")

    class Meta(SignedAddendum.Meta):
        indexes = [models.Index(fields=["clinic", "plan"], name="plan_addendum_clinic")]
