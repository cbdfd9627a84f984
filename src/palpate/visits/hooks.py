"""What other apps do when a visit note is signed, without the visits app knowing them.

An app above the visits (the patient portal schedules the check-in after a session) registers a
function in its ``AppConfig.ready``; :func:`visit_signed` calls each one inside the signing
transaction, after the note is signed and audited. A hook must not write or raise: it schedules
its work with ``transaction.on_commit`` (so nothing happens if the signature rolls back), and a
failure there must not undo a signature that has committed. No Django signals: the call is here,
explicit, in ``services.do_sign_visit``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

SignedHook = Callable[[Any], None]

_ON_SIGNED: dict[str, SignedHook] = {}


def on_visit_signed(name: str, hook: SignedHook) -> None:
    """Register (or replace, by name) a function called with each visit as it is signed."""
    _ON_SIGNED[name] = hook


def visit_signed(visit: Any) -> None:
    for hook in list(_ON_SIGNED.values()):
        hook(visit)
