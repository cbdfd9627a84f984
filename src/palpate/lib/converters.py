"""URL and API id types bounded to what the database can hold.

Django's ``<int:...>`` accepts any run of digits, and a 25-digit id reaches the database as an
integer SQLite and PostgreSQL cannot store: a crash instead of a 404. Ids here are 1 to 18 digits,
inside a signed 64-bit integer, so an impossible id simply does not match (404) in URLs and is a
documented 422 in the JSON API.
"""

from __future__ import annotations

from typing import Annotated

from ninja import Path, Query

MAX_ID = 10**18 - 1


class IdConverter:
    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


PathId = Annotated[int, Path(ge=1, le=MAX_ID)]
QueryId = Annotated[int | None, Query(ge=1, le=MAX_ID)]
