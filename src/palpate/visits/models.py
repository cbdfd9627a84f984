"""A treatment visit and its rows.

The note is edited as a draft and locked when signed; corrections after that are addenda, each
signed. ``findings``/``vitals`` hold what changed since the last visit and ``screen_result`` the
core's screen on the episode's current picture, re-run at every save. ``billing`` is the core's
unit count for the visit's minutes under the clinic's payer rule, refreshed at every save.

- ``findings``: ``[{"code", "region"?, "side"?, "days_ago"?, "closed"?}]`` (the core request's shape)
- ``vitals``: ``{"temperature_c"?, "bp_systolic"?, "bp_diastolic"?}``
- ``rom``: ``[{"joint", "motion", "side"?, "degrees"}]`` re-measured today
- ``overrides``: safety restrictions overridden for a treatment or complementary row
  ``[{"restriction": {...}, "row": {...}, "item": {...}, "reason", "by", "by_name", "at", "from_plan"?}]``
  (``item``: the row as ``core.safety`` checks it); each is also an audit event
  ``visit.override_restriction``. Only a relative restriction may be overridden
  (``core.safety.may_override``), with a reason that passes ``core.safety.check_override_reason``.
  ``from_plan`` (``{"plan", "signed_by", "signed_on"}``): the override was signed in the plan of care
  the visit is under and carried here, valid while the screen at the row's place is the plan's.
- ``carried_forward``: the rows carried from the last visit (or the plan) and what the last
  session's soreness changed in them (``visits.carry``).
- ``last_saved_by``: who saved the draft last, so a refused stale save can say who got there first.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.fields.json import KT

from palpate.lib.models_common import SignedRecord
from palpate.lib.vocabulary import label
from palpate.lib.voiding import PartsOfCurrentManager


# Stored values are the vocabulary's codes; the words are the vocabulary's (core/kb/vocabulary.yaml).
class Relief(models.TextChoices):
    NONE = "none", label("none", "relief")
    SOME = "some", label("some", "relief")
    GOOD = "good", label("good", "relief")
    COMPLETE = "complete", label("complete", "relief")


class Visit(SignedRecord):
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="visits")
    episode = models.ForeignKey("patients.Episode", on_delete=models.PROTECT, related_name="visits")
    plan = models.ForeignKey("plans.PlanOfCare", null=True, blank=True, on_delete=models.PROTECT, related_name="visits")
    therapist = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    visit_date = models.DateField()
    # Subjective: how the last session landed (feeds the next dose).
    subjective = models.TextField(blank=True)
    soreness_since_last = models.PositiveSmallIntegerField(null=True, blank=True, help_text="0-10")
    soreness_hours = models.PositiveSmallIntegerField(null=True, blank=True, help_text="How long it lasted, hours")
    relief = models.CharField(max_length=8, choices=Relief.choices, blank=True)
    # Objective.
    objective = models.TextField(blank=True)
    nprs_before = models.PositiveSmallIntegerField(null=True, blank=True)
    nprs_after = models.PositiveSmallIntegerField(null=True, blank=True)
    rom = models.JSONField(default=list, blank=True)
    assessment = models.TextField(blank=True)
    plan_text = models.TextField(blank=True)
    findings = models.JSONField(default=list, blank=True)
    vitals = models.JSONField(default=dict, blank=True)
    screen_result = models.JSONField(default=dict, blank=True)
    # The screen's decision (proceed, modify, hold), kept by the database from screen_result, so a
    # list of held sessions reads an index instead of every visit's stored screen.
    session = models.GeneratedField(expression=KT("screen_result__session"),
                                    output_field=models.CharField(max_length=8), db_persist=True)
    billing = models.JSONField(default=dict, blank=True)
    overrides = models.JSONField(default=list, blank=True)
    # The rows carried forward when the visit started, and what the last session's response did to
    # them (palpate.visits.carry documents the shape).
    carried_forward = models.JSONField(default=dict, blank=True)
    last_saved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="+")

    class Meta:
        ordering = ["-visit_date", "-id"]
        indexes = [
            models.Index(fields=["clinic", "patient", "visit_date"], name="visit_clinic_patient"),
            # Today's lists, whatever the size of the clinic's history: the day's visits and holds,
            # a therapist's recent visits and unsigned notes.
            models.Index(fields=["clinic", "visit_date"], name="visit_clinic_date"),
            models.Index(fields=["clinic", "therapist", "visit_date"], name="visit_clinic_therapist_date"),
            models.Index(fields=["clinic", "therapist", "status", "visit_date"], name="visit_clinic_therapist_status"),
            # Sessions held for safety: a few among all the week's visits.
            models.Index(fields=["clinic", "session", "visit_date"], name="visit_clinic_session"),
        ]

    def __str__(self) -> str:
        return f"Visit {self.visit_date} ({self.patient_id})"


class Response(models.TextChoices):
    NONE = "", "—"
    DISCOMFORT = "discomfort", label("discomfort", "response")
    RELEASE = "release", label("release", "response")
    WARMTH = "warmth", label("warmth", "response")
    TINGLING = "tingling", label("tingling", "response")
    RELIEF = "relief", label("relief", "response")


class RowsOfCurrentVisits(PartsOfCurrentManager):
    parent = "visit"


class TreatmentRow(models.Model):
    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.PROTECT, related_name="+")
    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="treatments")
    position = models.PositiveSmallIntegerField(default=0)
    technique = models.CharField(max_length=24)
    region = models.CharField(max_length=20)
    side = models.CharField(max_length=8, blank=True)
    pressure = models.CharField(max_length=10)
    minutes = models.PositiveSmallIntegerField()
    response = models.CharField(max_length=12, choices=Response.choices, blank=True)

    # Rows of a visit entered in error are left out wherever rows are read on their own.
    objects = RowsOfCurrentVisits()
    all_with_voided = models.Manager()  # noqa: DJ012 (a manager, which ruff takes for a field)

    class Meta:
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["clinic", "visit"], name="treatment_clinic_visit")]

    def __str__(self) -> str:
        return f"{self.technique} {self.region} {self.side} {self.pressure} {self.minutes} min"


class ComplementaryRow(models.Model):
    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.PROTECT, related_name="+")
    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="complementary")
    position = models.PositiveSmallIntegerField(default=0)
    therapy = models.CharField(max_length=32)
    minutes = models.PositiveSmallIntegerField(default=0)
    notes = models.CharField(max_length=200, blank=True)

    # Rows of a visit entered in error are left out wherever rows are read on their own.
    objects = RowsOfCurrentVisits()
    all_with_voided = models.Manager()  # noqa: DJ012 (a manager, which ruff takes for a field)

    class Meta:
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["clinic", "visit"], name="complementary_clinic_visit")]

    def __str__(self) -> str:
        return f"{self.therapy} {self.minutes} min"


class Addendum(models.Model):
    """A signed correction to a signed note. Never edited after it is saved."""

    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.PROTECT, related_name="+")
    visit = models.ForeignKey(Visit, on_delete=models.PROTECT, related_name="addenda")
    text = models.TextField()
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signed_at = models.DateTimeField()

    class Meta:
        ordering = ["signed_at", "id"]
        indexes = [models.Index(fields=["clinic", "visit"], name="addendum_clinic_visit")]

    def __str__(self) -> str:
        return f"Addendum {self.signed_at:%Y-%m-%d %H:%M}"
