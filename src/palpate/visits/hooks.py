"""What apps above the visits do when a note is signed, without the visits knowing them.

An app above the visits registers a function in its ``AppConfig.ready``; ``services.do_sign_visit``
calls each one inside the signing transaction, after the note is signed and audited. No Django
signals: the call is there, explicit.

- ``scheduling`` completes the appointment the note was started from: it writes (with its own
  audit event), and if it raises, the signature rolls back with it.
- ``scheduling`` also frees the appointment a voided draft was started from (``on_visit_voided``),
  so the visit can be started again.
- ``portal`` schedules the patient's check-in after the session with ``transaction.on_commit``, so
  nothing is sent if the signature rolls back, and a failure to send cannot undo a signature.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

VisitSigned = Callable[[Any, Any], None]  # (actor, the signed visit)

_ON_SIGNED: list[VisitSigned] = []


def on_visit_signed(hook: VisitSigned) -> None:
    """Call ``hook(actor, visit)`` whenever a visit note is signed (added once, in ``AppConfig.ready``)."""
    if hook not in _ON_SIGNED:
        _ON_SIGNED.append(hook)


def visit_signed(actor: Any, visit: Any) -> None:
    for hook in _ON_SIGNED:
        hook(actor, visit)


_ON_VOIDED: list[VisitSigned] = []


def on_visit_voided(hook: VisitSigned) -> None:
    """Call ``hook(actor, visit)`` whenever a draft visit note is voided as entered in error."""
    if hook not in _ON_VOIDED:
        _ON_VOIDED.append(hook)


def visit_voided(actor: Any, visit: Any) -> None:
    for hook in _ON_VOIDED:
        hook(actor, visit)
