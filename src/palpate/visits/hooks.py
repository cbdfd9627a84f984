"""What apps above the visits do when a note is signed, without the visits knowing them.

``scheduling`` (above) completes the appointment the note was started from. A hook is called by
``services.do_sign_visit`` inside the signing transaction, after the note is signed: it writes its
own audit event, and if it raises, the signature rolls back with it.
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
