"""Database connections and ``fork()``: no connection or pool may be shared by two processes.

A connection is a socket with protocol state. If a process forks while it holds one, parent and
child write to the same socket and each reads answers meant for the other: on PostgreSQL that is
one request's rows delivered to another, broken transactions and a broken audit chain. So:

- the process that forks (the gunicorn master, the background worker's parent) closes its
  connections and pools properly *before* forking (``close_connections``), and ``palpate serve``
  does its start-up work (migrations, static files, demo) in a child process, so the master never
  connects at all;
- a forked child, as a guard, forgets anything it inherited *without* closing it
  (``forget_inherited_connections``): closing would send PostgreSQL's terminate message on the
  parent's socket. psycopg does not finish a connection that is garbage-collected in another
  process, and the inherited objects are kept referenced so nothing else tries to.
"""

from __future__ import annotations

import sys
from typing import Any

# Inherited connection and pool objects, kept alive in the child so no finaliser ever touches them.
_inherited: list[Any] = []


def _django_db_loaded() -> bool:
    return "django.db" in sys.modules


def _pools() -> dict[str, Any]:
    if "django.db.backends.postgresql.base" not in sys.modules:
        return {}
    from django.db.backends.postgresql.base import DatabaseWrapper

    return DatabaseWrapper._connection_pools  # type: ignore[no-any-return]


def close_connections() -> None:
    """In the process that owns them: close every database connection and pool, cleanly."""
    if not _django_db_loaded():
        return
    from django.db import connections

    for connection in connections.all(initialized_only=True):
        connection.close()
        close_pool = getattr(connection, "close_pool", None)
        if close_pool is not None:
            close_pool()
    for pool in list(_pools().values()):
        pool.close()
    _pools().clear()


def forget_inherited_connections() -> int:
    """In a forked child: drop inherited connections and pools without a word to the server.

    Returns how many it found (0 when the parent did its job); the next query opens a fresh one.
    """
    if not _django_db_loaded():
        return 0
    from django.db import connections

    found = 0
    for connection in connections.all(initialized_only=True):
        if connection.connection is not None:
            _inherited.append(connection.connection)
            connection.connection = None
            found += 1
    pools = _pools()
    if pools:
        _inherited.extend(pools.values())
        found += len(pools)
        pools.clear()
    return found
