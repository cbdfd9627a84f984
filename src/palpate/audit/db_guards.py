"""Database triggers that refuse UPDATE and DELETE on audit events (and UPDATE on staged reads).

The model already refuses; the triggers make the rule hold for raw SQL and other clients too.
Installed by migration 0002 (events) and 0003 (staged reads; folding deletes those, so only
updates are refused). On PostgreSQL, TRUNCATE (what test teardown and a full reset use) is not a
row trigger event; on SQLite the test suite lifts the delete guard around its flush. SQLite drops
a table's triggers when a migration rebuilds the table: such a migration must call ``install``.
"""

from __future__ import annotations

from typing import Any

INSTALL = {
    "sqlite": [
        """CREATE TRIGGER IF NOT EXISTS audit_event_no_update BEFORE UPDATE ON audit_auditevent
           BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;""",
        """CREATE TRIGGER IF NOT EXISTS audit_event_no_delete BEFORE DELETE ON audit_auditevent
           BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;""",
    ],
    "postgresql": [
        """CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$
           BEGIN RAISE EXCEPTION 'audit events are append-only'; END; $$ LANGUAGE plpgsql;""",
        "DROP TRIGGER IF EXISTS audit_event_no_change ON audit_auditevent;",
        """CREATE TRIGGER audit_event_no_change BEFORE UPDATE OR DELETE ON audit_auditevent
           FOR EACH ROW EXECUTE FUNCTION audit_event_append_only();""",
    ],
}
REMOVE = {
    "sqlite": ["DROP TRIGGER IF EXISTS audit_event_no_update;", "DROP TRIGGER IF EXISTS audit_event_no_delete;"],
    "postgresql": [
        "DROP TRIGGER IF EXISTS audit_event_no_change ON audit_auditevent;",
        "DROP FUNCTION IF EXISTS audit_event_append_only();",
    ],
}

INSTALL_READS = {
    "sqlite": [
        """CREATE TRIGGER IF NOT EXISTS audit_read_no_update BEFORE UPDATE ON audit_auditread
           BEGIN SELECT RAISE(ABORT, 'staged audit reads are never changed'); END;""",
    ],
    "postgresql": [
        """CREATE OR REPLACE FUNCTION audit_read_no_update() RETURNS trigger AS $$
           BEGIN RAISE EXCEPTION 'staged audit reads are never changed'; END; $$ LANGUAGE plpgsql;""",
        "DROP TRIGGER IF EXISTS audit_read_no_update ON audit_auditread;",
        """CREATE TRIGGER audit_read_no_update BEFORE UPDATE ON audit_auditread
           FOR EACH ROW EXECUTE FUNCTION audit_read_no_update();""",
    ],
}
REMOVE_READS = {
    "sqlite": ["DROP TRIGGER IF EXISTS audit_read_no_update;"],
    "postgresql": [
        "DROP TRIGGER IF EXISTS audit_read_no_update ON audit_auditread;",
        "DROP FUNCTION IF EXISTS audit_read_no_update();",
    ],
}


def _execute(connection: Any, statements: dict[str, list[str]]) -> None:
    with connection.cursor() as cursor:
        for sql in statements.get(connection.vendor, []):
            cursor.execute(sql)


def install(connection: Any) -> None:
    _execute(connection, INSTALL)


def remove(connection: Any) -> None:
    _execute(connection, REMOVE)


def install_reads(connection: Any) -> None:
    _execute(connection, INSTALL_READS)


def remove_reads(connection: Any) -> None:
    _execute(connection, REMOVE_READS)
