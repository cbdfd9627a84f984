"""An episode's outcomes at a glance: series per scale, responder status, progression signals.

Read-only. Every judgement (band, responder status, progression) comes from
``palpate.core.measures``; this module only gathers the episode's rows into the series the core
takes. Signed records only: a visit note counts (its NPRS, its place in the visit count) once it
is signed; drafts are listed as drafts (``EpisodeProgress.drafts``) and never counted. A
questionnaire counts once it is recorded: the app has no draft questionnaires (recording one is
submitting it, scored and audited at once). ``episode_progress`` runs a fixed number of queries whatever the number of measurements
(measurements, visits, the main-measure choice), so pages built on it cannot grow N+1.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from palpate.core import measures
from palpate.core.errors import InputError
from palpate.core.measures import Band, ChangeResult, Instrument, ProgressionSignals, ResponderStatus, Scale
from palpate.lib.models_common import RecordStatus
from palpate.outcomes import main_measure
from palpate.outcomes.models import MainMeasureChoice, OutcomeMeasurement


@dataclass(frozen=True)
class Point:
    taken_on: dt.date
    score: float
    measurement_id: int
    visit_id: int | None
    patient_reported: bool = False


@dataclass(frozen=True)
class ScaleProgress:
    """One scored scale of one instrument in one episode (the BCTQ gives two of these)."""

    instrument: Instrument
    scale: Scale
    points: tuple[Point, ...]
    not_scorable: tuple[OutcomeMeasurement, ...]
    is_main: bool
    responder: ResponderStatus | None

    @property
    def code(self) -> str:
        return self.instrument.code

    @property
    def label(self) -> str:
        return main_measure.scale_label(self.instrument.code, self.scale.code if self.instrument.is_multiscale
                                        else None)

    @property
    def key(self) -> str:
        return f"{self.code}-{self.scale.code}" if self.instrument.is_multiscale else self.code

    @property
    def baseline(self) -> Point | None:
        return self.points[0] if self.points else None

    @property
    def latest(self) -> Point | None:
        return self.points[-1] if self.points else None

    @property
    def latest_band(self) -> Band | None:
        return self.scale.band_for(self.latest.score) if self.latest else None

    @property
    def better_text(self) -> str:
        return f"{self.scale.better.value} is better"

    @property
    def rows(self) -> list[Row]:
        """Each score with its band and the core's judgement of its change from the baseline."""
        scale_code = self.scale.code if self.instrument.is_multiscale else None
        rows = []
        for index, point in enumerate(self.points):
            judged = (measures.change(self.code, self.points[0].score, point.score, scale_code)
                      if index else None)
            rows.append(Row(point, self.scale.band_for(point.score), judged))
        return rows


@dataclass(frozen=True)
class Row:
    point: Point
    band: Band | None
    change: ChangeResult | None


@dataclass(frozen=True)
class NprsReading:
    value: float
    taken_on: dt.date
    source: str  # "questionnaire" or "visit note"


@dataclass(frozen=True)
class DraftVisit:
    """A visit note not signed yet: listed so the therapist sees it, never counted."""

    visit_date: dt.date
    nprs_before: int | None


@dataclass
class EpisodeProgress:
    episode: Any
    measurements: list[OutcomeMeasurement]
    scales: list[ScaleProgress]
    main: main_measure.MainMeasure
    main_progress: ScaleProgress | None
    signals: ProgressionSignals
    nprs: NprsReading | None
    visits_count: int
    visit_dates: list[dt.date]
    instruments_measured: list[str] = field(default_factory=list)
    # Unsigned visit notes: shown as drafts, never counted (their pain rating may still change).
    drafts: list[DraftVisit] = field(default_factory=list)

    @property
    def latest_by_scale(self) -> list[ScaleProgress]:
        return [sp for sp in self.scales if sp.points]


def scale_score(measurement: OutcomeMeasurement, instrument: Instrument, scale: Scale) -> float | None:
    """The stored core score of one scale of a measurement (None: not scorable)."""
    if instrument.is_multiscale:
        return (measurement.scores or {}).get(scale.code)
    return measurement.score if measurement.valid else None


def episode_progress(episode: Any, measurements: list[OutcomeMeasurement] | None = None) -> EpisodeProgress:
    from palpate.visits.models import Visit

    if measurements is None:
        measurements = list(
            OutcomeMeasurement.objects.filter(clinic_id=episode.clinic_id, episode=episode)
            .select_related("entered_by").order_by("taken_on", "id")
        )
    # Only signed notes count (their pain rating and their number): a draft's NPRS may still be a
    # typo, and must not become "latest pain" or make a patient "ready for active rehab".
    noted = list(Visit.objects.filter(clinic_id=episode.clinic_id, episode=episode)
                 .order_by("visit_date", "id").values_list("visit_date", "nprs_before", "status"))
    visits = [(day, nprs) for day, nprs, status in noted if status == RecordStatus.SIGNED]
    drafts = [DraftVisit(day, nprs) for day, nprs, status in noted if status != RecordStatus.SIGNED]
    choice = (MainMeasureChoice.objects.filter(clinic_id=episode.clinic_id, episode=episode)
              .values_list("instrument", "scale").first())

    valid_codes = [m.instrument for m in measurements if m.valid]
    main = main_measure.choose(episode.condition, episode.body_region, valid_codes, choice)

    scales: list[ScaleProgress] = []
    codes_in_order = list(dict.fromkeys(m.instrument for m in measurements))
    # Show the main measure first, then the others in the order they were first recorded.
    codes_in_order.sort(key=lambda code: code != main.instrument)
    for code in codes_in_order:
        try:
            inst = measures.instrument(code)
        except InputError:
            continue  # an instrument retired from the knowledge base: nothing the core can judge
        rows = [m for m in measurements if m.instrument == code]
        for scale in inst.scales:
            points, unscored = [], []
            for m in rows:
                value = scale_score(m, inst, scale)
                if value is None:
                    unscored.append(m)
                else:
                    points.append(Point(m.taken_on, value, m.pk, m.visit_id, m.patient_reported))
            is_main = code == main.instrument and (not inst.is_multiscale or scale.code == main.scale)
            responder = (measures.responder_status(code, [p.score for p in points],
                                                   scale.code if inst.is_multiscale else None)
                         if points else None)
            scales.append(ScaleProgress(inst, scale, tuple(points), tuple(unscored), is_main, responder))

    main_progress = next((sp for sp in scales if sp.is_main), None)
    nprs = latest_nprs(measurements, visits)
    signals = measures.progression_signals(
        nprs.value if nprs else None, main.instrument,
        [p.score for p in main_progress.points] if main_progress else [],
        len(visits), main_scale=main.scale,
    )
    return EpisodeProgress(
        episode=episode, measurements=measurements, scales=scales, main=main, main_progress=main_progress,
        signals=signals, nprs=nprs, visits_count=len(visits), visit_dates=[d for d, _ in visits],
        instruments_measured=codes_in_order, drafts=drafts,
    )


def latest_nprs(measurements: list[OutcomeMeasurement], visits: list[tuple[dt.date, int | None]]) -> NprsReading | None:
    """The most recent pain rating: an NPRS questionnaire or a visit note's pain before treatment.

    Pain before treatment is the patient's state coming in; pain right after a session is not
    used, as it reflects the session more than the course of the episode. On the same day the
    questionnaire wins, being the deliberate measurement.
    """
    low, high = measures.instrument("nprs").range
    # A visit note's rating outside the scale (a typo the note did not catch) is no reading at all.
    readings = [NprsReading(float(v), d, "visit note") for d, v in visits if v is not None and low <= v <= high]
    readings += [NprsReading(float(m.score), m.taken_on, "questionnaire")
                 for m in measurements if m.instrument == "nprs" and m.valid and m.score is not None]
    if not readings:
        return None
    # Readings come oldest first; on a tie of day and kind the later one (higher index) is the latest.
    return max(enumerate(readings), key=lambda ir: (ir[1].taken_on, ir[1].source == "questionnaire", ir[0]))[1]

