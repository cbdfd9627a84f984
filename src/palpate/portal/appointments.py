"""Extension point: the patient's upcoming appointments, for the patient's home page.

Scheduling is built in another app (in parallel with the portal) that the portal must not depend
on. When it exists, it registers a provider here from its ``AppConfig.ready``::

    from palpate.portal.appointments import register_provider
    register_provider(lambda patient, today: [Upcoming(start, "with Alex Moreno", "Harbor PT"), ...])

Until then the home page says that appointments are booked with the clinic by phone. (The
scheduling app sits below the portal in the layers if it is to import this module; the portal
never imports it.)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Upcoming:
    starts_at: dt.datetime
    with_whom: str = ""
    where: str = ""


Provider = Callable[[Any, dt.date], list[Upcoming]]
_PROVIDER: list[Provider] = []


def register_provider(provider: Provider) -> None:
    """Set the one function that lists a patient's upcoming appointments (replaces any earlier one)."""
    _PROVIDER[:] = [provider]


def upcoming(patient: Any, today: dt.date) -> list[Upcoming] | None:
    """The patient's upcoming appointments, or None when no scheduling app provides them."""
    if not _PROVIDER:
        return None
    return sorted(_PROVIDER[0](patient, today), key=lambda u: u.starts_at)
