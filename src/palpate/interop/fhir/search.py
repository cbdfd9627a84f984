"""Search parameters: parsing what a client sent, with a 400 OperationOutcome that says what to fix.

Supported types (FHIR R4 search): ``date`` (prefixes eq, ne, gt, lt, ge, le; a year, month, day or
instant), ``token`` (``code``, ``system|code``, ``system|``; comma-separated values mean OR),
``reference`` (``123``, ``Patient/123``). Result parameters: ``_count`` (1 to MAX_COUNT, default
DEFAULT_COUNT), ``_include``, and ``_offset``, the paging cursor Palpate writes into ``next`` links.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from palpate.interop.fhir.errors import FhirError, bad_search

DEFAULT_COUNT = 50
MAX_COUNT = 200
MAX_OFFSET = 10**6  # far past any clinic's records, and it keeps a crafted link from asking the impossible

PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le")
DATE_PATTERN = re.compile(
    r"^(?P<prefix>eq|ne|gt|lt|ge|le)?(?P<year>\d{4})(-(?P<month>\d{2})(-(?P<day>\d{2})"
    r"(T(?P<time>\d{2}:\d{2}(:\d{2}(\.\d+)?)?)(?P<tz>Z|[+-]\d{2}:\d{2})?)?)?)?$")
ID_PATTERN = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")


@dataclass(frozen=True)
class DateRange:
    """A search date as the interval it stands for (``2026-11`` is all of November), and the comparison."""

    prefix: str
    start: dt.datetime
    end: dt.datetime  # exclusive

    def matches(self, low: dt.datetime, high: dt.datetime) -> bool:
        """Whether a resource's own interval [low, high) satisfies the comparison."""
        if self.prefix == "eq":
            return low >= self.start and high <= self.end
        if self.prefix == "ne":
            return not (low >= self.start and high <= self.end)
        if self.prefix == "gt":
            return high > self.end
        if self.prefix == "lt":
            return low < self.start
        if self.prefix == "ge":
            return high > self.start
        return low < self.end  # le


def parse_date(name: str, raw: str) -> DateRange:
    match = DATE_PATTERN.match(raw.strip())
    if not match:
        raise bad_search(name, f"{raw!r} is not a date. Use YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss+zz:zz, "
                               f"optionally prefixed by one of {', '.join(PREFIXES)} (e.g. ge2026-01-01).")
    prefix = match["prefix"] or "eq"
    try:
        year = int(match["year"])
        if match["time"]:
            text = f"{match['year']}-{match['month']}-{match['day']}T{match['time']}"
            start = dt.datetime.fromisoformat(text)
            zone = match["tz"]
            if zone:
                start = dt.datetime.fromisoformat(text + ("+00:00" if zone == "Z" else zone))
            else:
                start = start.replace(tzinfo=dt.UTC)
            seconds = match["time"].count(":")
            end = start + (dt.timedelta(seconds=1) if seconds == 2 else dt.timedelta(minutes=1))
        elif match["day"]:
            start = dt.datetime(year, int(match["month"]), int(match["day"]), tzinfo=dt.UTC)
            end = start + dt.timedelta(days=1)
        elif match["month"]:
            month = int(match["month"])
            start = dt.datetime(year, month, 1, tzinfo=dt.UTC)
            end = dt.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=dt.UTC)
        else:
            start = dt.datetime(year, 1, 1, tzinfo=dt.UTC)
            end = dt.datetime(year + 1, 1, 1, tzinfo=dt.UTC)
    except ValueError:
        raise bad_search(name, f"{raw!r} is not a real date (check the month and day).") from None
    return DateRange(prefix, start, end)


@dataclass(frozen=True)
class Token:
    system: str | None  # None: any system
    code: str | None  # None: any code of the system ("system|")

    def matches(self, codings: Iterable[dict[str, Any]]) -> bool:
        for coding in codings:
            if self.system is not None and coding.get("system") != self.system:
                continue
            if self.code is None or coding.get("code") == self.code:
                return True
        return False


def parse_tokens(name: str, raw: str) -> list[Token]:
    tokens = []
    for part in raw.split(","):
        part = part.strip()
        if not part:
            raise bad_search(name, "an empty value; give a code, or system|code.")
        if "|" in part:
            system, _, code = part.partition("|")
            tokens.append(Token(system or None, code or None))
        else:
            tokens.append(Token(None, part))
    return tokens


def parse_reference(name: str, raw: str, resource_type: str) -> list[str]:
    """The ids a reference parameter names: ``123`` or ``Patient/123``, comma-separated."""
    ids = []
    for part in raw.split(","):
        part = part.strip()
        if "/" in part:
            kind, _, part = part.rpartition("/")
            kind = kind.rsplit("/", 1)[-1]
            if kind != resource_type:
                raise bad_search(name, f"it refers to {resource_type} resources; {kind}/... does not fit.")
        if not ID_PATTERN.match(part):
            raise bad_search(name, f"{part!r} is not a resource id (letters, digits, '-' and '.', up to 64).")
        ids.append(part)
    return ids


def parse_int(name: str, raw: str, low: int, high: int) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise bad_search(name, f"{raw!r} is not a whole number; use {low} to {high}.") from None
    if not low <= value <= high:
        raise bad_search(name, f"{value} is out of range; use {low} to {high}.")
    return value


@dataclass
class Query:
    """A parsed search: each parameter's values (repeats mean AND), paging and includes."""

    params: dict[str, list[Any]] = field(default_factory=dict)
    count: int = DEFAULT_COUNT
    offset: int = 0
    includes: list[str] = field(default_factory=list)
    # The query string as the client sent it, less the paging parameters, for the Bundle's links.
    echo: list[tuple[str, str]] = field(default_factory=list)

    def values(self, name: str) -> list[Any]:
        return self.params.get(name, [])


def strict_handling(prefer: str | None) -> bool:
    """``Prefer: handling=lenient`` ignores unknown parameters; the default tells the client about them."""
    return "handling=lenient" not in (prefer or "").replace(" ", "").lower()


def raise_unknown(resource_type: str, name: str, known: Iterable[str]) -> None:
    raise FhirError(400, "not-supported",
                    f"{resource_type} has no search parameter {name!r}. Supported: {', '.join(sorted(known))} "
                    "(and _count, _include, _lastUpdated); the CapabilityStatement at /fhir/R4/metadata lists them. "
                    "Send 'Prefer: handling=lenient' to have unknown parameters ignored.", expression=[name])
