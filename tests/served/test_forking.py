"""No database connection crosses a fork (``palpate.lib.forking``, the gunicorn hooks)."""

from __future__ import annotations

import gc
import os

import pytest
from django.db import connection

from palpate.lib.forking import close_connections, forget_inherited_connections
from palpate.web import gunicorn_conf

pytestmark = pytest.mark.django_db


def _in_child(body) -> int:  # type: ignore[no-untyped-def]
    """Run ``body`` in a forked child; its exit status (0: it ran without raising)."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            body()
            gc.collect()
        except BaseException:
            os._exit(1)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def _select_one() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        return int(cursor.fetchone()[0])


def test_a_forked_child_forgets_the_inherited_connection_without_closing_the_parents() -> None:
    assert _select_one() == 1
    assert connection.connection is not None

    def child() -> None:
        assert forget_inherited_connections() >= 1
        assert connection.connection is None

    assert _in_child(child) == 0
    # The parent's session survived the child's exit: the child said nothing on its socket.
    assert _select_one() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the shared-socket failure is PostgreSQL's")
def test_closing_an_inherited_connection_in_a_child_would_break_the_parent() -> None:
    """Why the guard forgets instead of closing: a close in the child ends the parent's session."""
    assert _select_one() == 1
    assert _in_child(lambda: connection.connection.close()) == 0
    with pytest.raises(Exception):  # noqa: B017 - psycopg's OperationalError, Django's wrapper or an InterfaceError
        _select_one()
    connection.close()  # let Django open a fresh one for the rest of the suite
    assert _select_one() == 1


def test_the_gunicorn_worker_hook_drops_what_the_master_left_open() -> None:
    assert _select_one() == 1

    def child() -> None:
        gunicorn_conf.post_fork(server=None, worker=type("Worker", (), {"pid": os.getpid()})())
        assert connection.connection is None

    assert _in_child(child) == 0
    assert _select_one() == 1


def test_the_master_closes_every_connection_it_opened_before_forking(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _select_one() == 1
    closed: list[str] = []
    monkeypatch.setattr(type(connection._connections["default"]), "close",  # type: ignore[attr-defined]
                        lambda self: closed.append(self.alias))
    gunicorn_conf.pre_fork(server=None, worker=None)
    assert closed == ["default"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="Django never closes an in-memory SQLite test database")
def test_after_closing_in_the_master_a_child_inherits_nothing() -> None:
    assert _select_one() == 1
    close_connections()
    assert connection.connection is None
    assert _in_child(lambda: forget_inherited_connections() == 0 or os._exit(3)) == 0
    assert _select_one() == 1  # the master can still connect afterwards
