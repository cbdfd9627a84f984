"""gunicorn settings for ``palpate serve`` (``-c python:palpate.web.gunicorn_conf``).

The hooks keep database connections from crossing the fork between the master and its workers
(see ``palpate.lib.forking``). ``palpate serve`` already runs its start-up work in a separate
process, so the master holds no connection; these hooks are the guard for anything that changes.
"""

from __future__ import annotations

import logging
from typing import Any

from palpate.lib.forking import close_connections, forget_inherited_connections


def pre_fork(server: Any, worker: Any) -> None:
    close_connections()


def post_fork(server: Any, worker: Any) -> None:
    found = forget_inherited_connections()
    if found:
        logging.getLogger("palpate.serve").warning(
            "worker %s inherited %d database connection(s) from the master; dropped them", worker.pid, found)
