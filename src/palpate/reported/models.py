"""What a patient reports from home: the check-in after a visit and the home-programme log.

This app sits below the visit notes (ARCHITECTURE.md) so that the next note can read what the
patient reported without importing the patient portal that collects it. It therefore cannot point
at a visit with a foreign key (``palpate.visits`` is above it): a check-in keeps the signed visit's
id and date as plain values. Signed visits are never deleted (they are protected records), so the
id always names the visit.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from palpate.lib.vocabulary import label


class CheckInStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Waiting to be sent"
    SENT = "sent", "Sent, not answered yet"
    ANSWERED = "answered", "Answered"
    NOT_SENT = "not_sent", "Not sent"


class Programme(models.TextChoices):
    """How the home programme went since the visit, in the patient's words."""

    ALL = "all", "I did my exercises every day"
    SOME = "some", "I did some of them"
    NONE = "none", "I could not do them"
    NONE_GIVEN = "none_given", "I have no home exercises"


class Relief(models.TextChoices):
    # The vocabulary's relief codes, so the next note takes the answer as it is.
    NONE = "none", label("none", "relief")
    SOME = "some", label("some", "relief")
    GOOD = "good", label("good", "relief")
    COMPLETE = "complete", label("complete", "relief")


class CheckIn(models.Model):
    """The questions sent 24-48 h after a signed visit, and the patient's answers.

    Warning-sign codes are those of ``core/kb/warning_signs.yaml``.
    """

    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    episode = models.ForeignKey("patients.Episode", on_delete=models.PROTECT, related_name="+")
    visit_id = models.BigIntegerField(help_text="The signed visit this check-in follows.")
    visit_date = models.DateField()
    therapist = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                  help_text="The treating therapist: warning signs are flagged to them.")
    status = models.CharField(max_length=10, choices=CheckInStatus.choices, default=CheckInStatus.SCHEDULED)
    due_at = models.DateTimeField()
    # Set by the worker that sends it (a conditional update), so two workers never both send it.
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    not_sent_reason = models.CharField(max_length=200, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    soreness = models.PositiveSmallIntegerField(null=True, blank=True, help_text="0-10")
    soreness_hours = models.PositiveSmallIntegerField(null=True, blank=True)
    relief = models.CharField(max_length=8, choices=Relief.choices, blank=True)
    programme = models.CharField(max_length=10, choices=Programme.choices, blank=True)
    # The warning signs this patient is asked about (codes; decided when the check-in is made, from
    # the findings on record then), and those the patient ticked ``[{"code", "side"?}]``.
    asked_signs = models.JSONField(default=list, blank=True)
    warning_signs = models.JSONField(default=list, blank=True)
    patient_note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-visit_date", "-id"]
        constraints = [models.UniqueConstraint(fields=["clinic", "visit_id"], name="checkin_unique_clinic_visit")]
        indexes = [
            models.Index(fields=["clinic", "patient", "status"], name="checkin_clinic_patient"),
            models.Index(fields=["clinic", "episode", "visit_id"], name="checkin_clinic_episode_visit"),
            # The worker's sweep: due check-ins not sent yet.
            models.Index(fields=["status", "due_at"], name="checkin_status_due"),
        ]

    def __str__(self) -> str:
        return f"Check-in after the visit of {self.visit_date}"

    @property
    def is_answered(self) -> bool:
        return self.status == CheckInStatus.ANSWERED


class ExerciseLog(models.Model):
    """One home exercise on one day, as the patient logged it."""

    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    plan = models.ForeignKey("plans.PlanOfCare", on_delete=models.PROTECT, related_name="+")
    exercise = models.CharField(max_length=40)
    day = models.DateField()
    done = models.BooleanField(default=False)
    sets = models.PositiveSmallIntegerField(null=True, blank=True)
    pain_during = models.PositiveSmallIntegerField(null=True, blank=True, help_text="0-10")
    logged_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-day", "exercise"]
        constraints = [models.UniqueConstraint(fields=["clinic", "plan", "exercise", "day"],
                                               name="exerciselog_unique_plan_exercise_day")]
        indexes = [models.Index(fields=["clinic", "patient", "day"], name="exerciselog_clinic_patient_day")]

    def __str__(self) -> str:
        return f"{self.exercise} on {self.day}: {'done' if self.done else 'not done'}"
