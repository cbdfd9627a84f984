"""What apps above the discharge do when a discharge summary is signed, without it knowing them.

``scheduling`` cancels the episode's future bookings (a discharged episode keeps none). A hook is
called by ``services.do_sign_discharge`` inside the signing transaction, after the episode is
discharged: it writes with its own audit events, and if it raises, the signature rolls back with it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

DischargeSigned = Callable[[Any, Any], None]  # (actor, the signed discharge summary)

_ON_SIGNED: list[DischargeSigned] = []


def on_discharge_signed(hook: DischargeSigned) -> None:
    """Call ``hook(actor, discharge)`` whenever a discharge summary is signed (added once, in ``AppConfig.ready``)."""
    if hook not in _ON_SIGNED:
        _ON_SIGNED.append(hook)


def discharge_signed(actor: Any, discharge: Any) -> None:
    for hook in _ON_SIGNED:
        hook(actor, discharge)
