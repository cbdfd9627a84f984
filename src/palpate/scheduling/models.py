"""The clinic's day: appointments and what decides when they can be (hours, closures, rooms, time off).

Times are stored in UTC (``starts_at``/``ends_at``); what a person reads and types is in the
clinic's time zone (``ScheduleSettings.time_zone``). A series is planned in local time, so its
appointments keep their local time across a daylight-saving change.

No double booking: a therapist (and a room) never holds two overlapping appointments that hold
time (:data:`HOLDS_TIME`). The database enforces it (migration 0002): on PostgreSQL an exclusion
constraint on the time range (btree_gist); on SQLite triggers that refuse an overlapping insert or
update, inside the write transaction that SQLite's IMMEDIATE mode already serialises. The services
check first only to say what was wrong and offer the next free slot.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from palpate.lib.voiding import Voidable


class AppointmentKind(models.TextChoices):
    EVALUATION = "evaluation", "Evaluation"
    TREATMENT = "treatment", "Treatment"
    REEVALUATION = "reevaluation", "Re-evaluation"
    DISCHARGE = "discharge", "Discharge"


class AppointmentStatus(models.TextChoices):
    BOOKED = "booked", "Booked"
    ARRIVED = "arrived", "Arrived"
    IN_SESSION = "in_session", "In session"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"
    LATE_CANCELLED = "late_cancelled", "Late cancellation"
    NO_SHOW = "no_show", "No-show"
    # Voided (palpate.lib.voiding): not in HOLDS_TIME, so the database's no-double-booking rule
    # frees its time at once; the default manager hides it everywhere.
    ENTERED_IN_ERROR = "entered_in_error", "Entered in error"


# Statuses whose appointment occupies its therapist and room: the others free the time.
HOLDS_TIME = (AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED, AppointmentStatus.IN_SESSION,
              AppointmentStatus.COMPLETED)
# Statuses that still lie ahead of the patient (may be moved, cancelled, checked in).
OPEN = (AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED, AppointmentStatus.IN_SESSION)


class ScheduleSettings(models.Model):
    """A clinic's scheduling settings (one row per clinic, created with the defaults when first read).

    Every number here is the clinic's own policy, not a clinical rule: the defaults are product
    defaults an owner changes on the scheduling settings page.
    """

    clinic = models.OneToOneField("clinics.Clinic", on_delete=models.CASCADE, related_name="+")
    time_zone = models.CharField("time zone", max_length=64, default="America/New_York",
                                 help_text="The clinic's time zone (IANA name, e.g. America/New_York).")
    country = models.CharField(max_length=2, default="US",
                               help_text="Public holidays of this country close the clinic (ISO code, e.g. US).")
    subdivision = models.CharField("state or region", max_length=10, blank=True,
                                   help_text="Adds the holidays of a state or region (e.g. CA); blank for national only.")
    observe_public_holidays = models.BooleanField("closed on public holidays", default=True)
    reminder_hours = models.PositiveSmallIntegerField(
        "reminder, hours before", default=24,
        help_text="Email the patient this many hours before the appointment; 0 sends no reminders.")
    late_cancel_hours = models.PositiveSmallIntegerField(
        "late cancellation window, hours", default=24,
        help_text="A patient's cancellation less than this many hours before is recorded as a late cancellation.")
    slot_minutes = models.PositiveSmallIntegerField("calendar step, minutes", default=15)
    evaluation_minutes = models.PositiveSmallIntegerField("evaluation length, minutes", default=60)
    treatment_minutes = models.PositiveSmallIntegerField("treatment length, minutes", default=45)
    reevaluation_minutes = models.PositiveSmallIntegerField("re-evaluation length, minutes", default=45)
    discharge_minutes = models.PositiveSmallIntegerField("discharge length, minutes", default=30)

    def __str__(self) -> str:
        return f"Scheduling settings of clinic {self.clinic_id}"

    def minutes_for(self, kind: str) -> int:
        return int(getattr(self, f"{kind}_minutes", self.treatment_minutes))


class OpeningHours(models.Model):
    """When the clinic is open on a weekday (0 Monday ... 6 Sunday); several rows make a break."""

    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.CASCADE, related_name="+")
    weekday = models.PositiveSmallIntegerField()
    opens = models.TimeField()
    closes = models.TimeField()

    class Meta:
        ordering = ["weekday", "opens"]
        indexes = [models.Index(fields=["clinic", "weekday"], name="opening_clinic_weekday")]
        constraints = [models.CheckConstraint(condition=Q(closes__gt=models.F("opens")), name="opening_closes_after_opens")]

    def __str__(self) -> str:
        return f"{self.weekday} {self.opens}-{self.closes}"


class Closure(models.Model):
    """A day or days the clinic itself is closed (public holidays come from the holiday calendar)."""

    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.CASCADE, related_name="+")
    starts_on = models.DateField("from")
    ends_on = models.DateField("until (inclusive)")
    reason = models.CharField(max_length=120)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["starts_on"]
        indexes = [models.Index(fields=["clinic", "ends_on"], name="closure_clinic_ends")]
        constraints = [models.CheckConstraint(condition=Q(ends_on__gte=models.F("starts_on")), name="closure_ends_after_starts")]

    def __str__(self) -> str:
        return f"{self.reason} ({self.starts_on}-{self.ends_on})"


class Room(models.Model):
    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=60)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["clinic", "name"], name="room_unique_clinic_name")]

    def __str__(self) -> str:
        return self.name


class WorkingHours(models.Model):
    """When a therapist works on a weekday. A therapist with no rows works whenever the clinic is open."""

    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.CASCADE, related_name="+")
    therapist = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    weekday = models.PositiveSmallIntegerField()
    starts = models.TimeField()
    ends = models.TimeField()

    class Meta:
        ordering = ["therapist_id", "weekday", "starts"]
        indexes = [models.Index(fields=["clinic", "therapist", "weekday"], name="working_clinic_therapist")]
        constraints = [models.CheckConstraint(condition=Q(ends__gt=models.F("starts")), name="working_ends_after_starts")]

    def __str__(self) -> str:
        return f"{self.therapist_id} {self.weekday} {self.starts}-{self.ends}"


class TimeOff(models.Model):
    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.CASCADE, related_name="+")
    therapist = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=120, blank=True)

    class Meta:
        ordering = ["starts_at"]
        indexes = [models.Index(fields=["clinic", "therapist", "ends_at"], name="timeoff_clinic_therapist")]
        constraints = [models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="timeoff_ends_after_starts")]

    def __str__(self) -> str:
        return f"{self.therapist_id} off {self.starts_at}-{self.ends_at}"


class Authorization(models.Model):
    """A payer's authorisation for an episode: how many visits, between which dates, and its reference.

    Visits used are the episode's signed visit notes dated inside the range (counted, never stored).
    """

    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    episode = models.ForeignKey("patients.Episode", on_delete=models.PROTECT, related_name="authorizations")
    reference = models.CharField("authorisation number", max_length=60)
    visits = models.PositiveSmallIntegerField("visits authorised")
    starts_on = models.DateField("valid from")
    ends_on = models.DateField("valid until")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_on", "-id"]
        indexes = [models.Index(fields=["clinic", "episode", "ends_on"], name="authorization_clinic_episode"),
                   models.Index(fields=["clinic", "ends_on"], name="authorization_clinic_ends")]
        constraints = [models.CheckConstraint(condition=Q(ends_on__gte=models.F("starts_on")), name="authorization_dates")]

    def __str__(self) -> str:
        return f"Authorisation {self.reference} ({self.visits} visits, {self.starts_on}-{self.ends_on})"


class Series(models.Model):
    """A run of appointments booked together from a plan of care, and what could not be placed."""

    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    episode = models.ForeignKey("patients.Episode", on_delete=models.PROTECT, related_name="+")
    plan = models.ForeignKey("plans.PlanOfCare", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    therapist = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # [[weekday, "HH:MM"], ...] in the clinic's local time.
    slots = models.JSONField(default=list)
    minutes = models.PositiveSmallIntegerField()
    first_day = models.DateField()
    requested = models.PositiveSmallIntegerField()
    # [{"date", "time", "reason"}] for each visit that could not be placed.
    unplaced = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["clinic", "plan"], name="series_clinic_plan")]

    def __str__(self) -> str:
        return f"Series of {self.requested} from {self.first_day}"


class Appointment(Voidable):
    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    episode = models.ForeignKey("patients.Episode", on_delete=models.PROTECT, related_name="+")
    therapist = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    room = models.ForeignKey(Room, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    kind = models.CharField(max_length=16, choices=AppointmentKind.choices, default=AppointmentKind.TREATMENT)
    status = models.CharField(max_length=16, choices=AppointmentStatus.choices, default=AppointmentStatus.BOOKED)
    status_changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                          related_name="+")
    status_changed_at = models.DateTimeField(null=True, blank=True)
    # Why it was cancelled or missed (required for those statuses).
    reason = models.CharField(max_length=200, blank=True)
    plan = models.ForeignKey("plans.PlanOfCare", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    series = models.ForeignKey(Series, null=True, blank=True, on_delete=models.PROTECT, related_name="appointments")
    # The visit note started from this appointment (the link lives here: the visits app is below).
    visit = models.OneToOneField("visits.Visit", null=True, blank=True, on_delete=models.PROTECT, related_name="appointment")
    booked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [
            models.Index(fields=["clinic", "starts_at"], name="appointment_clinic_starts"),
            models.Index(fields=["clinic", "therapist", "starts_at"], name="appointment_clinic_therapist"),
            models.Index(fields=["clinic", "room", "starts_at"], name="appointment_clinic_room"),
            models.Index(fields=["clinic", "patient", "starts_at"], name="appointment_clinic_patient"),
            models.Index(fields=["clinic", "episode", "status"], name="appointment_clinic_episode"),
            models.Index(fields=["clinic", "plan", "status"], name="appointment_clinic_plan"),
        ]
        constraints = [models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")),
                                              name="appointment_ends_after_starts")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.starts_at:%Y-%m-%d %H:%M} UTC"

    @property
    def holds_time(self) -> bool:
        return self.status in HOLDS_TIME

    @property
    def is_open(self) -> bool:
        return self.status in OPEN

    @property
    def minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)


class ReminderStatus(models.TextChoices):
    PENDING = "pending", "Queued"
    SENT = "sent", "Sent"
    RETRYING = "retrying", "Failed, will retry"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Not sent"


class Reminder(models.Model):
    """One reminder email for one appointment time, and how sending it went (sent, failed and why, retried).

    One row per appointment and start time: a moved appointment gets a reminder for its new time.
    """

    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.CASCADE, related_name="+")
    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="reminders")
    starts_at = models.DateTimeField()
    status = models.CharField(max_length=12, choices=ReminderStatus.choices, default=ReminderStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["appointment", "starts_at"], name="reminder_unique_time")]
        indexes = [models.Index(fields=["clinic", "status"], name="reminder_clinic_status")]

    def __str__(self) -> str:
        return f"Reminder {self.appointment_id} {self.status}"


class CalendarFeed(models.Model):
    """A therapist's private iCalendar feed: the URL carries a token; only its SHA-256 is stored."""

    clinic = models.ForeignKey("clinics.Clinic", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["clinic", "user"], name="feed_clinic_user")]

    def __str__(self) -> str:
        return f"Calendar feed of {self.user_id}"
