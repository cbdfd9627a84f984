"""Suite-wide test setup.

Reads of patient data are staged (``AuditRead``) and folded into the audit chain by the worker
every minute. The Django tests check the chain right after a request, with no worker running, so
this stands in for it: when a test-client request finishes, pending reads are folded, as the
worker would have done a moment later. ``tests/audit/test_reads.py`` tests the staging and the
fold themselves, without this shortcut.
"""

from __future__ import annotations

import pytest


def _fold_after_request(**kwargs: object) -> None:
    from django.db import connection

    from palpate.audit.services import fold_reads

    if connection.connection is not None or connection.in_atomic_block:
        # The worker's queries are not the request's: keep them out of query-count budgets.
        logging, connection.force_debug_cursor = connection.force_debug_cursor, False
        try:
            fold_reads()
        finally:
            connection.force_debug_cursor = logging


@pytest.fixture(autouse=True)
def worker_folds_reads_after_each_request(request: pytest.FixtureRequest):  # noqa: ANN201
    if request.node.get_closest_marker("no_fold") or "tests/served" in str(request.node.path) or "tests/core" in str(request.node.path):
        yield
        return
    from django.core.signals import request_finished
    from ninja.testing.client import TestClient

    # django-ninja's test client calls the view directly, without request_finished.
    plain_call = TestClient._call

    def call_then_fold(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        try:
            return plain_call(self, *args, **kwargs)
        finally:
            _fold_after_request()

    request_finished.connect(_fold_after_request, dispatch_uid="tests-fold-reads")
    TestClient._call = call_then_fold
    yield
    TestClient._call = plain_call
    request_finished.disconnect(dispatch_uid="tests-fold-reads")


@pytest.fixture(autouse=True)
def own_anchor_file(request: pytest.FixtureRequest, tmp_path):  # noqa: ANN001, ANN201
    """Each Django test anchors into its own file: the test databases start empty every time."""
    if "tests/core" in str(request.node.path) or "tests/served" in str(request.node.path):
        yield None
        return
    settings = request.getfixturevalue("settings")
    settings.AUDIT_ANCHOR_FILE = str(tmp_path / "audit_anchor.jsonl")
    yield tmp_path / "audit_anchor.jsonl"
