"""The initial evaluation of an episode and the referrals its safety screen raises.

Structured parts are JSON lists in the shapes of the clinical core's request (see
``palpate.core.planning``), so the screen can be re-run from the stored record at any time:

- ``findings``: ``[{"code", "region"?, "side"?, "days_ago"?, "closed"?}]``
- ``vitals``: ``{"temperature_c"?, "bp_systolic"?, "bp_diastolic"?}``
- ``screens``: ``{"wells"?: {...}, "ottawa_ankle"?: {...}, "ottawa_foot"?: {...}}``
- ``rom``: ``[{"joint", "motion", "side"?, "degrees", "percent_of_normal"?, "reference"?}]`` (the percentage
  is the core's ``percent_of_normal`` against ``reference``, stored so other pages need not recompute it;
  ``null`` where the motion has no arc, e.g. knee extension)
- ``pain_map``: ``[{"region", "side"?, "intensity" 0-10, "quality"}]``
- ``palpation``: ``[{"region", "side"?, "tone", "tender": bool, "trigger_points": int}]``
- ``complexity``: ``{"history": 0|1|3, "examination": 1|3|4, "presentation", "decision"}`` (the count
  buckets of 97161-97163; a draft may hold only some of them, ``suggested_code`` is set once all four are)
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from palpate.lib.models_common import SignedAddendum, SignedRecord
from palpate.lib.vocabulary import label

POSTURE_FINDINGS = [
    ("forward_head", "Forward head"),
    ("rounded_shoulders", "Rounded shoulders"),
    ("increased_kyphosis", "Increased thoracic kyphosis"),
    ("increased_lordosis", "Increased lumbar lordosis"),
    ("flattened_lordosis", "Flattened lumbar lordosis"),
    ("anterior_pelvic_tilt", "Anterior pelvic tilt"),
    ("posterior_pelvic_tilt", "Posterior pelvic tilt"),
    ("lateral_pelvic_tilt", "Lateral pelvic tilt"),
    ("scoliosis", "Scoliosis"),
    ("elevated_shoulder", "Elevated shoulder"),
    ("genu_valgum", "Genu valgum"),
    ("genu_varum", "Genu varum"),
    ("pes_planus", "Flat feet (pes planus)"),
]


class Irritability(models.TextChoices):
    # Stored values are the vocabulary's codes; the words are the vocabulary's.
    LOW = "low", label("low", "irritability")
    MODERATE = "moderate", label("moderate", "irritability")
    HIGH = "high", label("high", "irritability")


class Evaluation(SignedRecord):
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="evaluations")
    episode = models.ForeignKey("patients.Episode", on_delete=models.PROTECT, related_name="evaluations")
    therapist = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    performed_on = models.DateField()
    chief_complaint = models.TextField(blank=True)
    history = models.TextField(blank=True)
    patient_goals = models.TextField(blank=True)
    posture_findings = models.JSONField(default=list, blank=True)
    posture_notes = models.TextField(blank=True)
    rom = models.JSONField(default=list, blank=True)
    pain_nprs = models.PositiveSmallIntegerField(null=True, blank=True)
    pain_map = models.JSONField(default=list, blank=True)
    palpation = models.JSONField(default=list, blank=True)
    palpation_notes = models.TextField(blank=True)
    irritability = models.CharField(max_length=8, choices=Irritability.choices, blank=True)
    findings = models.JSONField(default=list, blank=True)
    vitals = models.JSONField(default=dict, blank=True)
    screens = models.JSONField(default=dict, blank=True)
    # Evaluation complexity components (97161-97163) and the code they support.
    complexity = models.JSONField(default=dict, blank=True)
    suggested_code = models.CharField(max_length=8, blank=True)
    # The core's answer when the screen last ran on this record (session, restrictions, referrals).
    screen_result = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-performed_on", "-id"]
        indexes = [models.Index(fields=["clinic", "patient", "performed_on"], name="evaluation_clinic_patient")]

    def __str__(self) -> str:
        return f"Evaluation {self.performed_on} ({self.patient_id})"


class ReferralStatus(models.TextChoices):
    OPEN = "open", "Open"
    SENT = "sent", "Letter sent"
    CLEARED = "cleared", "Cleared by physician"
    CLOSED = "closed", "Closed"


class Referral(models.Model):
    """A medical referral or clearance the safety screen asked for, tracked until it is closed."""

    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="referrals")
    episode = models.ForeignKey("patients.Episode", on_delete=models.PROTECT, related_name="referrals")
    reason = models.CharField(max_length=40)
    urgency = models.CharField(max_length=12)
    detail = models.TextField(blank=True)
    status = models.CharField(max_length=8, choices=ReferralStatus.choices, default=ReferralStatus.OPEN)
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    raised_on = models.DateField()
    closed_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # The evaluation whose screen raised it, and the core's reasons (finding codes) and sources, so the
    # referral letter can say what triggered it even after the evaluation is edited again.
    evaluation = models.ForeignKey(Evaluation, null=True, blank=True, on_delete=models.PROTECT, related_name="referrals")
    because = models.JSONField(default=list, blank=True)
    sources = models.JSONField(default=list, blank=True)
    status_note = models.TextField("note", blank=True)
    # Still waiting on the physician (open, or the letter sent), kept by the database from status.
    awaiting = models.GeneratedField(
        expression=models.Case(models.When(status__in=["open", "sent"], then=models.Value(True)),
                               default=models.Value(False)),
        output_field=models.BooleanField(), db_persist=True)

    class Meta:
        ordering = ["-raised_on", "-id"]
        indexes = [
            models.Index(fields=["clinic", "status", "raised_on"], name="referral_clinic_status"),
            # The chart lists one patient's open referrals on every clinical page.
            models.Index(fields=["clinic", "patient", "status"], name="referral_clinic_patient"),
            # Today lists the clinic's open referrals, oldest first, however many were ever closed.
            models.Index(fields=["clinic", "awaiting", "raised_on"], name="referral_clinic_open"),
        ]

    def __str__(self) -> str:
        return f"{self.reason} ({self.urgency})"

    @property
    def is_open(self) -> bool:
        """Still waiting on the physician (open, or the letter sent but no answer yet)."""
        return self.status in OPEN_REFERRAL_STATUSES


# A referral counts as open until the physician has cleared it or the clinic closed it.
OPEN_REFERRAL_STATUSES = (ReferralStatus.OPEN, ReferralStatus.SENT)


class EvaluationAddendum(SignedAddendum):
    """A signed correction to a signed evaluation (``lib.models_common.SignedAddendum``)."""

    evaluation = models.ForeignKey(Evaluation, on_delete=models.PROTECT, related_name="addenda")

    class Meta(SignedAddendum.Meta):
        indexes = [models.Index(fields=["clinic", "evaluation"], name="evaluation_addendum_clinic")]
