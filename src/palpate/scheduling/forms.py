"""Forms of the schedule: they turn what was posted into plain values for the services.

What a person types is in the clinic's time zone; :func:`aware` makes an instant of it. A local
time that does not exist that day (the clocks jump over it) is a form error, never shifted.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

import holidays as holiday_calendars
from django import forms

from palpate.clinics.models import Membership
from palpate.patients.models import Episode, EpisodeStatus
from palpate.scheduling import calendar as cal
from palpate.scheduling.models import AppointmentKind, Room, ScheduleSettings

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME = forms.TimeInput(attrs={"type": "time", "step": 300}, format="%H:%M")


def aware(day: dt.date, at: dt.time, tz: ZoneInfo) -> dt.datetime:
    moment = cal.instant(day, at, tz)
    if moment is None:
        raise forms.ValidationError(f"{at:%H:%M} does not exist on {day:%Y-%m-%d} (the clocks change): choose another time.")
    return moment


def check_year(day: dt.date | None) -> None:
    if day is not None and not cal.FIRST_YEAR <= day.year <= cal.LAST_YEAR:
        raise forms.ValidationError(f"Enter a date between {cal.FIRST_YEAR} and {cal.LAST_YEAR}.")


class SaneDateField(forms.DateField):
    """A date inside the years a clinic books in (a typo like 0202 is an error, never a crash)."""

    def validate(self, value: Any) -> None:
        super().validate(value)
        check_year(value)


def staff_choices(staff: list[Membership]) -> list[tuple[str, str]]:
    return [(str(m.user_id), m.user.display_name()) for m in staff]


def room_choices(clinic_id: int) -> list[tuple[str, str]]:
    return [("", "No room")] + [(str(r.pk), r.name) for r in Room.objects.filter(clinic_id=clinic_id, is_active=True)]


class EpisodeChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Episode) -> str:
        patient = obj.patient
        return f"{patient.family_name}, {patient.given_name} ({patient.record_number}) · {obj.diagnosis}"


class WhenForm(forms.Form):
    """Therapist, day, time, length and room: what booking and moving share."""

    therapist = forms.TypedChoiceField(coerce=int, label="Therapist")
    date = SaneDateField(widget=DATE)
    time = forms.TimeField(widget=TIME, label="Start")
    minutes = forms.IntegerField(min_value=cal.MIN_MINUTES, max_value=cal.MAX_MINUTES, required=False,
                                 label="Length (minutes)", help_text="Blank: the clinic's default for the kind.")
    room = forms.TypedChoiceField(coerce=int, required=False, empty_value=None, label="Room")
    kind = forms.ChoiceField(choices=AppointmentKind.choices, initial=AppointmentKind.TREATMENT)

    def __init__(self, *args: Any, staff: list[Membership], clinic_id: int, settings: ScheduleSettings,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.settings = settings
        self.fields["therapist"].choices = staff_choices(staff)
        self.fields["room"].choices = room_choices(clinic_id)
        if len(self.fields["room"].choices) == 1:
            self.fields["room"].widget = forms.HiddenInput()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("date") and data.get("time"):
            tz = ZoneInfo(self.settings.time_zone)
            try:
                data["starts_at"] = aware(data["date"], data["time"], tz)
            except forms.ValidationError as error:
                self.add_error("time", error)
        if not data.get("minutes") and data.get("kind"):
            data["minutes"] = self.settings.minutes_for(data["kind"])
        return data


class BookingForm(WhenForm):
    q = forms.CharField(required=False, label="Find the patient", max_length=100,
                        help_text="A name, record number or phone; then choose the episode of care.")
    episode = EpisodeChoice(queryset=Episode.objects.none(), widget=forms.RadioSelect, label="Patient and episode",
                            empty_label=None)
    confirm_over_authorization = forms.BooleanField(required=False, label="Book anyway: the payer agreed to more visits")

    field_order = ["q", "episode", "kind", "therapist", "date", "time", "minutes", "room"]

    def __init__(self, *args: Any, episodes: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["episode"].queryset = episodes


class MoveForm(WhenForm):
    pass


class CancelForm(forms.Form):
    reason = forms.CharField(max_length=200, label="Reason", widget=forms.TextInput(attrs={"autocomplete": "off"}))
    by = forms.ChoiceField(choices=[("patient", "The patient cancelled"), ("clinic", "The clinic cancelled")],
                           widget=forms.RadioSelect, initial="patient", label="Who cancelled")


class NoShowForm(forms.Form):
    reason = forms.CharField(max_length=200, label="Reason",
                             help_text="What is known: no answer by phone, forgot, ill...")


WEEKDAY_FIELDS = [(i, name) for i, name in enumerate(cal.WEEKDAYS)]


class SeriesForm(forms.Form):
    therapist = forms.TypedChoiceField(coerce=int)
    first_day = SaneDateField(widget=DATE, label="From")
    minutes = forms.IntegerField(min_value=cal.MIN_MINUTES, max_value=cal.MAX_MINUTES, label="Length (minutes)")
    room = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)

    def __init__(self, *args: Any, staff: list[Membership], clinic_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["therapist"].choices = staff_choices(staff)
        self.fields["room"].choices = room_choices(clinic_id)
        for weekday, name in WEEKDAY_FIELDS:
            self.fields[f"at_{weekday}"] = forms.TimeField(required=False, widget=TIME, label=name)

    def weekday_fields(self) -> list[forms.BoundField]:
        return [self[f"at_{weekday}"] for weekday, _ in WEEKDAY_FIELDS]

    def slots(self) -> list[tuple[int, dt.time]]:
        return [(w, self.cleaned_data[f"at_{w}"]) for w, _ in WEEKDAY_FIELDS if self.cleaned_data.get(f"at_{w}")]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not any(data.get(f"at_{w}") for w, _ in WEEKDAY_FIELDS):
            raise forms.ValidationError("Give a time on at least one weekday (e.g. Monday 09:00 and Thursday 17:30).")
        return data


class AuthorizationForm(forms.Form):
    reference = forms.CharField(max_length=60, label="Authorisation number")
    visits = forms.IntegerField(min_value=1, max_value=365, label="Visits authorised")
    starts_on = SaneDateField(widget=DATE, label="Valid from")
    ends_on = SaneDateField(widget=DATE, label="Valid until")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("starts_on") and data.get("ends_on") and data["ends_on"] < data["starts_on"]:
            self.add_error("ends_on", "The authorisation ends before it starts.")
        return data


# -- settings ---------------------------------------------------------------------------------------


class SettingsForm(forms.ModelForm):
    class Meta:
        model = ScheduleSettings
        fields = ["time_zone", "country", "subdivision", "observe_public_holidays", "reminder_hours",
                  "late_cancel_hours", "slot_minutes", "evaluation_minutes", "treatment_minutes",
                  "reevaluation_minutes", "discharge_minutes"]

    def clean_time_zone(self) -> str:
        value = str(self.cleaned_data["time_zone"]).strip()
        if value not in available_timezones():
            raise forms.ValidationError("Enter a time zone name such as America/New_York or Europe/Berlin.")
        return value

    def clean_country(self) -> str:
        value = str(self.cleaned_data["country"]).strip().upper()
        if value not in holiday_calendars.list_supported_countries():
            raise forms.ValidationError("Enter a two-letter country code the holiday calendar knows (e.g. US, CA, GB).")
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        subdivision = str(data.get("subdivision") or "").strip().upper()
        country = data.get("country")
        if subdivision and country:
            known = holiday_calendars.list_supported_countries().get(country, [])
            if subdivision not in known:
                self.add_error("subdivision", f"{country} has no region {subdivision} in the holiday calendar.")
        data["subdivision"] = subdivision
        for name in ("reminder_hours", "late_cancel_hours"):
            if data.get(name) is not None and data[name] > 14 * 24:
                self.add_error(name, "At most 336 hours (two weeks).")
        step = data.get("slot_minutes")
        if step is not None and step not in (5, 10, 15, 20, 30, 60):
            self.add_error("slot_minutes", "Choose 5, 10, 15, 20, 30 or 60 minutes.")
        for kind in AppointmentKind.values:
            minutes = data.get(f"{kind}_minutes")
            if minutes is not None and not cal.MIN_MINUTES <= minutes <= cal.MAX_MINUTES:
                self.add_error(f"{kind}_minutes", f"Between {cal.MIN_MINUTES} and {cal.MAX_MINUTES} minutes.")
        return data


class WeekHoursForm(forms.Form):
    """One interval a weekday (blank: closed / not working)."""

    def __init__(self, *args: Any, initial_rows: dict[int, tuple[dt.time, dt.time]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for weekday, name in WEEKDAY_FIELDS:
            start, end = (initial_rows or {}).get(weekday, (None, None))
            self.fields[f"from_{weekday}"] = forms.TimeField(required=False, widget=TIME, label=f"{name} from",
                                                             initial=start)
            self.fields[f"to_{weekday}"] = forms.TimeField(required=False, widget=TIME, label=f"{name} until", initial=end)

    def days(self) -> list[tuple[str, forms.BoundField, forms.BoundField]]:
        return [(name, self[f"from_{w}"], self[f"to_{w}"]) for w, name in WEEKDAY_FIELDS]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for weekday, name in WEEKDAY_FIELDS:
            start, end = data.get(f"from_{weekday}"), data.get(f"to_{weekday}")
            if (start is None) != (end is None):
                self.add_error(f"to_{weekday}", f"Give both times for {name}, or neither.")
            elif start is not None and end is not None and end <= start:
                self.add_error(f"to_{weekday}", f"{name}: the end comes after the start.")
        return data

    def rows(self) -> list[tuple[int, dt.time, dt.time]]:
        return [(w, self.cleaned_data[f"from_{w}"], self.cleaned_data[f"to_{w}"]) for w, _ in WEEKDAY_FIELDS
                if self.cleaned_data.get(f"from_{w}") and self.cleaned_data.get(f"to_{w}")]


class ClosureForm(forms.Form):
    starts_on = SaneDateField(widget=DATE, label="From")
    ends_on = SaneDateField(widget=DATE, label="Until (inclusive)")
    reason = forms.CharField(max_length=120)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("starts_on") and data.get("ends_on") and data["ends_on"] < data["starts_on"]:
            self.add_error("ends_on", "The closure ends before it starts.")
        return data


class RoomForm(forms.Form):
    name = forms.CharField(max_length=60, label="New room")


class TimeOffForm(forms.Form):
    therapist = forms.TypedChoiceField(coerce=int)
    starts_on = SaneDateField(widget=DATE, label="From day")
    starts = forms.TimeField(widget=TIME, label="from", initial=dt.time(0))
    ends_on = SaneDateField(widget=DATE, label="Until day")
    ends = forms.TimeField(widget=TIME, label="until", initial=dt.time(23, 59))
    reason = forms.CharField(max_length=120, required=False)

    def __init__(self, *args: Any, staff: list[Membership], settings: ScheduleSettings, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.settings = settings
        self.fields["therapist"].choices = staff_choices(staff)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        tz = ZoneInfo(self.settings.time_zone)
        try:
            if data.get("starts_on") and data.get("starts") is not None:
                data["starts_at"] = aware(data["starts_on"], data["starts"], tz)
            if data.get("ends_on") and data.get("ends") is not None:
                data["ends_at"] = aware(data["ends_on"], data["ends"], tz)
        except forms.ValidationError as error:
            self.add_error(None, error)
        if data.get("starts_at") and data.get("ends_at") and data["ends_at"] <= data["starts_at"]:
            self.add_error("ends", "Time off ends after it starts.")
        return data


def active_episodes(clinic_id: int) -> Any:
    return Episode.objects.filter(clinic_id=clinic_id, status=EpisodeStatus.ACTIVE).select_related("patient")
