"""Every write to what patients report, and what the next visit note takes from it.

Writes (``check_*`` validates, ``do_*`` changes and audits in one transaction) are made by the
patient through the portal: ``reporter`` is the patient acting (``palpate.lib.http.Acting``), named
in the audit trail as the patient, never as a staff member.

:func:`report_for_next_note` is what the visits service asks when it opens the next note: the
patient's check-in after the last signed visit (soreness, how long, relief, warning signs, how the
home programme went) and the home-programme log since then, as note fields marked "reported by the
patient on ...". The reported soreness is the note's own soreness field, so the visits app applies
the core's dose rule to the carried-forward rows with it (``palpate.visits.carry``, planning policy
§3), exactly as if the therapist had typed it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from palpate.audit.services import record_event
from palpate.core.errors import InputError
from palpate.core.warning_signs import sign as warning_sign
from palpate.lib.http import Acting
from palpate.lib.models_common import RecordStatus
from palpate.lib.vocabulary import exercise_library, label
from palpate.plans.models import PlanOfCare
from palpate.plans.services import current_plan
from palpate.reported.models import CheckIn, CheckInStatus, ExerciseLog, Programme, Relief

SORENESS_HOURS_MAX = 336  # two weeks, the visit note's own limit for the same field
SIDES = ("left", "right", "both")
NOTE_MAX_CHARS = 2000
# How far back a patient may fill in a missed day of the home-programme log.
LOG_DAYS_BACK = 7
SETS_MAX = 50
# The visit note's adherence covers the days since the last visit, at most this many.
NOTE_ADHERENCE_MAX_DAYS = 28


# -- the check-in ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckInAnswer:
    soreness: int | None = None
    soreness_hours: int | None = None
    relief: str = ""
    programme: str = ""
    warning_signs: tuple[Mapping[str, str], ...] = ()
    patient_note: str = ""


class AlreadyAnswered(Exception):
    """The check-in was answered already: a link or form is usable once."""


def _in_range(value: int | None, low: int, high: int, path: str, what: str) -> int | None:
    if value is not None and not low <= value <= high:
        raise InputError("out_of_range", f"{what} must be a number from {low} to {high}.", path)
    return value


def check_check_in_answer(check_in: CheckIn, answer: CheckInAnswer) -> CheckInAnswer:
    """Validate the answers against what this check-in asked; InputError names the field to fix."""
    if check_in.is_answered:
        raise AlreadyAnswered
    _in_range(answer.soreness, 0, 10, "soreness", "Soreness")
    _in_range(answer.soreness_hours, 0, SORENESS_HOURS_MAX, "soreness_hours", "How long it lasted, in hours,")
    if answer.relief and answer.relief not in Relief.values:
        raise InputError("unknown_code", "Choose one of the answers about relief.", "relief")
    if answer.programme and answer.programme not in Programme.values:
        raise InputError("unknown_code", "Choose one of the answers about your home exercises.", "programme")
    asked = set(check_in.asked_signs or [])
    seen = set()
    for ticked in answer.warning_signs:
        code, side = str(ticked.get("code", "")), str(ticked.get("side") or "")
        if code not in asked or code in seen:
            raise InputError("unknown_code", "Tick only the signs listed.", "warning_signs")
        seen.add(code)
        if side and (side not in SIDES or not warning_sign(code).sides):
            raise InputError("unknown_code", "Choose left, right or both legs.", f"side_{code}")
    if len(answer.patient_note) > NOTE_MAX_CHARS:
        raise InputError("too_long", f"Please keep your message under {NOTE_MAX_CHARS} characters.", "patient_note")
    return answer


def do_answer_check_in(reporter: Acting, check_in: CheckIn, answer: CheckInAnswer,
                       now: dt.datetime | None = None) -> CheckIn:
    """Store the answers once, audited; a second answer (the same link again) raises AlreadyAnswered."""
    check_check_in_answer(check_in, answer)
    now = now or timezone.now()
    values: dict[str, Any] = {
        "soreness": answer.soreness, "soreness_hours": answer.soreness_hours, "relief": answer.relief,
        "programme": answer.programme, "patient_note": answer.patient_note.strip(),
        "warning_signs": [{"code": str(w["code"]), **({"side": str(w["side"])} if w.get("side") else {})}
                          for w in answer.warning_signs],
    }
    with transaction.atomic():
        # One conditional UPDATE: of two submissions racing, exactly one finds it unanswered.
        updated = (CheckIn.objects.filter(pk=check_in.pk, clinic_id=check_in.clinic_id)
                   .exclude(status=CheckInStatus.ANSWERED)
                   .update(**values, status=CheckInStatus.ANSWERED, answered_at=now))
        if updated != 1:
            raise AlreadyAnswered
        record_event(actor=reporter, action="checkin.answer", clinic=check_in.clinic, patient_id=check_in.patient_id,
                     obj=check_in, new={**values, "visit_id": check_in.visit_id})
    return CheckIn.objects.get(pk=check_in.pk)


# -- the home programme -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ProgrammeExercise:
    plan_id: int
    exercise: str
    name: str
    side: str
    dose: str
    instructions: str


def programme(plan: PlanOfCare | None) -> list[ProgrammeExercise]:
    """The home exercises of a signed plan of care, with plain names (empty for a draft or no plan)."""
    if plan is None or plan.status != RecordStatus.SIGNED:
        return []
    library = exercise_library()
    out = []
    for entry in plan.home_program or []:
        code = str(entry.get("exercise") or "")
        if not code:
            continue
        name = entry.get("name") or library.get(code, {}).get("name") or label(code, "exercise")
        out.append(ProgrammeExercise(plan.pk, code, str(name), str(entry.get("side") or ""),
                                     str(entry.get("dose") or ""), str(entry.get("instructions") or "")))
    return out


def programme_start(plan: PlanOfCare) -> dt.date:
    """The first day of the programme: the plan's start, or the day it was signed."""
    if plan.start_date:
        return plan.start_date
    return timezone.localdate(plan.signed_at) if plan.signed_at else timezone.localdate()


@dataclass(frozen=True)
class LogEntry:
    exercise: str
    done: bool
    sets: int | None = None
    pain_during: int | None = None


def check_log(plan: PlanOfCare, day: dt.date, entries: Sequence[LogEntry], today: dt.date) -> list[LogEntry]:
    exercises = {e.exercise for e in programme(plan)}
    if not exercises:
        raise InputError("no_programme", "There is no home programme to log yet.", "plan")
    if day > today:
        raise InputError("out_of_range", "You cannot log a day that has not come yet.", "day")
    earliest = max(programme_start(plan), today - dt.timedelta(days=LOG_DAYS_BACK))
    if day < earliest:
        raise InputError("out_of_range", f"You can log days from {earliest:%A %d %B} onwards.", "day")
    for index, entry in enumerate(entries):
        if entry.exercise not in exercises:
            raise InputError("unknown_code", "That exercise is not in your programme.", f"entries[{index}]")
        _in_range(entry.sets, 0, SETS_MAX, f"sets_{entry.exercise}", "Sets")
        _in_range(entry.pain_during, 0, 10, f"pain_{entry.exercise}", "Pain during the exercise")
    return list(entries)


def do_log_exercises(reporter: Acting, plan: PlanOfCare, day: dt.date, entries: Sequence[LogEntry],
                     today: dt.date | None = None) -> list[ExerciseLog]:
    """Save one day's log (a second save of the same day replaces it), audited."""
    checked = check_log(plan, day, entries, today or timezone.localdate())
    saved = []
    with transaction.atomic():
        for entry in checked:
            log, _ = ExerciseLog.objects.update_or_create(
                clinic_id=plan.clinic_id, plan=plan, exercise=entry.exercise, day=day,
                defaults={"patient_id": plan.patient_id, "done": entry.done, "sets": entry.sets,
                          "pain_during": entry.pain_during})
            saved.append(log)
        record_event(actor=reporter, action="programme.log", clinic=plan.clinic, patient_id=plan.patient_id,
                     obj=plan, new={"day": day, "entries": [
                         {"exercise": e.exercise, "done": e.done, "sets": e.sets, "pain_during": e.pain_during}
                         for e in checked]})
    return saved


@dataclass(frozen=True)
class ExerciseAdherence:
    exercise: str
    name: str
    done_days: int
    prescribed_days: int
    pain_max: int | None

    @property
    def percent(self) -> int:
        return round(100 * self.done_days / self.prescribed_days) if self.prescribed_days else 0


@dataclass(frozen=True)
class Adherence:
    """Days on which the patient logged each exercise as done, of the days it was prescribed.

    Every exercise in the library is prescribed daily (its dose says "a day" or "daily"), so each
    day from the programme's start is a prescribed day for each exercise. Today counts only once
    something is logged for it: the day is not over.
    """

    start: dt.date
    end: dt.date
    done: int
    prescribed: int
    exercises: tuple[ExerciseAdherence, ...] = field(default_factory=tuple)

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.prescribed) if self.prescribed else 0

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def words(self) -> str:
        return (f"{self.percent}% of prescribed days ({self.done} of {self.prescribed} exercise-days done, "
                f"{self.start:%Y-%m-%d} to {self.end:%Y-%m-%d})")


def adherence(plan: PlanOfCare | None, start: dt.date, end: dt.date,
              today: dt.date | None = None) -> Adherence | None:
    """Adherence to ``plan``'s home programme from ``start`` to ``end`` (one query); None without one."""
    exercises = programme(plan)
    if plan is None or not exercises:
        return None
    today = today or timezone.localdate()
    start = max(start, programme_start(plan))
    end = min(end, today)
    logs = list(ExerciseLog.objects.filter(clinic_id=plan.clinic_id, plan=plan, day__gte=start, day__lte=end)
                .only("exercise", "day", "done", "pain_during"))
    if end == today and not any(log.day == today for log in logs):
        end = today - dt.timedelta(days=1)
    if end < start:
        return None
    days = (end - start).days + 1
    rows = []
    for item in exercises:
        mine = [log for log in logs if log.exercise == item.exercise and log.day <= end]
        pains = [log.pain_during for log in mine if log.pain_during is not None]
        rows.append(ExerciseAdherence(item.exercise, item.name, sum(1 for log in mine if log.done), days,
                                      max(pains) if pains else None))
    return Adherence(start, end, sum(r.done_days for r in rows), days * len(rows), tuple(rows))


# -- what the next visit note takes -------------------------------------------------------------------


@dataclass(frozen=True)
class NoteReport:
    """What the next note is prefilled with: its fields, the carried rows, and where they came from."""

    note: dict[str, Any]
    source: str


def sign_words(ticked: Iterable[Mapping[str, str]]) -> list[str]:
    """Each ticked warning sign as the therapist reads it, with the side and the policy's advice."""
    out = []
    for item in ticked:
        sign = warning_sign(str(item.get("code")))
        side = {"left": " (left leg)", "right": " (right leg)", "both": " (both legs)"}.get(str(item.get("side") or ""), "")
        out.append(f"{sign.therapist_label}{side}: {sign.advice}")
    return out


def answered_check_in(clinic_id: int, visit_id: int) -> CheckIn | None:
    return (CheckIn.objects.filter(clinic_id=clinic_id, visit_id=visit_id, status=CheckInStatus.ANSWERED)
            .first())


def report_for_next_note(episode: Any, last_visit_id: int, last_visit_date: dt.date,
                         today: dt.date | None = None) -> NoteReport | None:
    """The patient's report since the last signed visit for the next note, or None if there is none."""
    today = today or timezone.localdate()
    check_in = answered_check_in(episode.clinic_id, last_visit_id)
    plan = current_plan(episode)
    since = max(last_visit_date + dt.timedelta(days=1), today - dt.timedelta(days=NOTE_ADHERENCE_MAX_DAYS))
    logged = adherence(plan, since, today - dt.timedelta(days=1), today=today)
    if check_in is None and logged is None:
        return None
    note: dict[str, Any] = {}
    lines: list[str] = []
    if check_in is not None:
        answered_on = timezone.localdate(check_in.answered_at) if check_in.answered_at else today
        parts = []
        if check_in.soreness is not None:
            parts.append(f"soreness {check_in.soreness}/10")
            note["soreness_since_last"] = check_in.soreness
        if check_in.soreness_hours is not None:
            parts.append(f"lasting {check_in.soreness_hours} hours")
            note["soreness_hours"] = check_in.soreness_hours
        if check_in.relief:
            parts.append(f"relief: {label(check_in.relief, 'relief').lower()}")
            note["relief"] = check_in.relief
        if check_in.programme:
            parts.append(f"home exercises: {Programme(check_in.programme).label.lower()}")
        lines.append(f"Reported by the patient on {answered_on:%Y-%m-%d} (check-in after the visit of "
                     f"{check_in.visit_date:%Y-%m-%d}): {'; '.join(parts) or 'no answers about soreness'}.")
        for words in sign_words(check_in.warning_signs or []):
            lines.append(f"WARNING SIGN reported: {words}")
        if check_in.patient_note:
            lines.append(f"In the patient's words: \u201c{check_in.patient_note}\u201d")
    if logged is not None:
        lines.append(f"Home programme logged by the patient: {logged.words()}.")
    note["subjective"] = "\n".join(lines)
    source = ("the patient's check-in of " + f"{timezone.localdate(check_in.answered_at):%Y-%m-%d}"
              if check_in is not None and check_in.answered_at else "the patient's home-programme log")
    return NoteReport(note, source)
