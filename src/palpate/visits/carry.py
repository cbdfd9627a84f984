"""What the last session's response does to the rows a visit carries forward (planning policy §3).

A visit starts with the rows of the episode's last signed visit (else the plan of care's), and
those are what gets signed. So the soreness the patient reports today must change *them*, not
only the engine's suggested session: ``core.response.respond_to_rows`` says, for each carried row,
whether it is lowered one pressure level or removed (friction and trigger point after severe
soreness), with the clinic's thresholds. This module applies that to the note's rows and keeps
the account in ``Visit.carried_forward``:

``{"source", "from_visit"?, "rows": [{"technique", "region", "side", "pressure", "minutes",
"response"}], "basis": {"soreness_since_last", "soreness_hours"} | null, "changes": [{"index",
"action", "technique", "region", "side", "from_pressure", "to_pressure", "reason",
"put_back"?: {"reason", "by", "by_name", "at"}}]}``

- ``rows`` are the rows as carried (with the response recorded for each at the last visit, shown
  again today); ``basis`` is the soreness the changes were worked out for.
- For each carried row with a change, the row at the change's state is kept; a row still at the
  carried state is changed (that is also what happens when someone sets a lowered row back by
  hand: putting a row back needs a reason). A row the therapist changed otherwise is left alone.
- When the soreness is corrected so that a change no longer applies, the row goes back to how it
  was carried.
- ``put_back``: the therapist put the row back as carried, with a reason that passes
  ``core.safety.check_override_reason`` (the one minimum); audited by the save.

Pure: no queries, no writes. ``services.check_visit_note`` calls :func:`respond` and
``services.do_save_visit_note`` stores and audits what it returns.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from palpate.core.policy import Policy
from palpate.core.request import LastSession
from palpate.core.response import respond_to_rows, session_response
from palpate.visits.note import Treatment

State = tuple[str, str, str, str] | None  # (technique, region, side, pressure); None: removed


@dataclass
class Response:
    """The rows after the response, and the account of it."""

    treatments: list[Treatment]
    # For each row as typed, its position in ``treatments`` (None: the response removed it).
    positions: list[int | None]
    changes: list[dict[str, Any]]  # every change in force (stored on the visit)
    applied: list[dict[str, Any]] = field(default_factory=list)  # changed a row in this save (audited)
    reverted: list[dict[str, Any]] = field(default_factory=list)  # no longer warranted, undone (audited)
    put_back: list[dict[str, Any]] = field(default_factory=list)  # put back in this save (audited)
    basis: dict[str, Any] | None = None
    prompt: str = ""  # the adverse-event prompt after severe soreness

    @property
    def changed_rows(self) -> bool:
        return bool(self.applied or self.reverted or self.put_back)

    def stored(self, carried: Mapping[str, Any]) -> dict[str, Any]:
        """The visit's ``carried_forward`` after this save."""
        return {**carried, "basis": self.basis, "changes": self.changes}


def carried_record(source: str, rows: Sequence[Mapping[str, Any]], from_visit: int | None = None) -> dict[str, Any]:
    """What a new visit keeps of the rows it carries forward (``Visit.carried_forward``)."""
    out: dict[str, Any] = {"source": source, "rows": [dict(r) for r in rows], "basis": None, "changes": []}
    if from_visit is not None:
        out["from_visit"] = from_visit
    return out


def last_session(soreness: int | None, hours: int | None) -> LastSession | None:
    if soreness is None and hours is None:
        return None
    return LastSession(soreness_24h=soreness, soreness_hours=hours)


def _state(row: Mapping[str, Any], change: Mapping[str, Any] | None) -> State:
    """Where a carried row stands under a change (None: removed)."""
    if change is None or change.get("put_back"):
        pressure = str(row.get("pressure"))
    elif change.get("action") == "removed":
        return None
    else:
        pressure = str(change.get("to_pressure"))
    return (str(row.get("technique")), str(row.get("region")), str(row.get("side") or ""), pressure)


def _at(treatment: Treatment) -> State:
    return (treatment.technique, treatment.region, treatment.side or "", treatment.pressure)


def respond(carried: Mapping[str, Any] | None, typed: Sequence[Treatment], soreness: int | None,
            hours: int | None, policy: Policy, *, put_back: Mapping[int, str] | None = None,
            by: tuple[int, str] | None = None, when: dt.datetime | None = None) -> Response:
    """The typed rows with the last session's response applied to the carried-forward ones.

    ``put_back`` maps a carried row's position to the reason it is put back (already checked by
    the form: ``core.safety.check_override_reason``); ``by`` is (user id, name) of who saves.
    """
    carried = carried or {}
    rows = list(carried.get("rows") or [])
    basis = {"soreness_since_last": soreness, "soreness_hours": hours}
    last = last_session(soreness, hours)
    answer = session_response(last, policy)
    stored = {int(c["index"]): c for c in carried.get("changes") or [] if "index" in c}
    fresh = respond_to_rows(rows, last, policy)
    same_basis = carried.get("basis") == basis
    current: list[Treatment | None] = list(typed)
    added: list[Treatment] = []
    taken: set[int] = set()
    out = Response([], [], [], basis=basis, prompt=answer.adverse_event_prompt())

    def find(state: State) -> int | None:
        if state is None:
            return None
        return next((i for i, t in enumerate(current) if t is not None and i not in taken and _at(t) == state), None)

    for index, row in enumerate(rows):
        old = stored.get(index)
        if (old is not None and old.get("put_back")) or same_basis:
            new: dict[str, Any] | None = old  # the same soreness, or the therapist's put-back, stands
        else:
            change = fresh[index]
            new = {"index": index, **change.to_json()} if change is not None else None
        reason = (put_back or {}).get(index, "").strip()
        putting_back = bool(reason) and new is not None and not new.get("put_back")
        if putting_back and new is not None:
            new = {**new, "put_back": {"reason": reason, "by": by[0] if by else None,
                                       "by_name": by[1] if by else "", "at": (when or dt.datetime.now()).isoformat()}}
        if new is not None:
            out.changes.append(new)
        target, was, as_carried = _state(row, new), _state(row, old), _state(row, None)
        here = find(target)
        if here is not None:
            taken.add(here)  # already where the change (or the put-back) leaves it
            continue
        # The row where the rule left it last time, else still as carried (the first time, or set
        # back by hand without the reason a put-back needs).
        source = find(was) if was != target else None
        if source is None and as_carried not in (was, target):
            source = find(as_carried)
        if source is None:
            if target is not None and was is None and (putting_back or new is None):
                # Removed by the response before; now put back, or no longer warranted: as carried.
                added.append(Treatment(target[0], target[1], target[2], target[3], int(row.get("minutes") or 1)))
                (out.put_back if putting_back else out.reverted).append(new or old or {})
            continue  # the therapist changed or removed this row otherwise: theirs stands
        if target is None:
            current[source] = None
        else:
            found = current[source]
            assert found is not None  # find() only returns rows still there
            current[source] = replace(found, pressure=target[3])
            taken.add(source)
        if putting_back:
            out.put_back.append(new or {})
        elif new is None:
            out.reverted.append(old or {})
        else:
            out.applied.append(new)
    position = 0
    for treatment in current:
        if treatment is None:
            out.positions.append(None)
            continue
        out.treatments.append(treatment)
        out.positions.append(position)
        position += 1
    out.treatments += added
    return out


def row_notes(carried: Mapping[str, Any] | None, treatments: Sequence[Treatment]) -> list[list[str]]:
    """For each row, what the carry-forward says about it: the response recorded at the last visit
    and any change the last session's soreness made to it, each in words."""
    from palpate.lib.vocabulary import label

    carried = carried or {}
    rows = list(carried.get("rows") or [])
    changes = {int(c["index"]): c for c in carried.get("changes") or [] if "index" in c}
    out: list[list[str]] = []
    used: set[int] = set()
    for treatment in treatments:
        notes: list[str] = []
        for index, row in enumerate(rows):
            if index in used or (str(row.get("technique")), str(row.get("region")), str(row.get("side") or "")) != (
                    treatment.technique, treatment.region, treatment.side or ""):
                continue
            used.add(index)
            if row.get("response"):
                notes.append(f"Carried forward; the patient's response at the last visit: "
                             f"{label(str(row['response']), 'response').lower()}.")
            change = changes.get(index)
            if change and change.get("action") == "lowered" and not change.get("put_back") \
                    and treatment.pressure == change.get("to_pressure"):
                notes.append(f"Pressure lowered: {change.get('reason')}")
            elif change and change.get("put_back"):
                put = change["put_back"]
                notes.append(f"Put back as carried forward by {put.get('by_name') or 'the therapist'}: {put.get('reason')}")
            break
        out.append(notes)
    return out
