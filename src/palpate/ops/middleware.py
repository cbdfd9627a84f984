"""Request logging an operator can trace a slow request with, and a clear page when the disk is full."""

from __future__ import annotations

import errno
import logging
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

log = logging.getLogger("palpate.request")

# A request id from the proxy (X-Request-ID) is kept if it looks like one; anything else is replaced,
# so a client cannot write arbitrary text into the logs.
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class _QueryTimer:
    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.count += 1
            self.seconds += time.perf_counter() - started


class RequestLogMiddleware:
    """One log line per request: id, method, path and route (never the query string: searches carry
    patient names), status, duration, database queries and their time, user id and clinic id."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        offered = request.headers.get("X-Request-ID", "")
        request_id = offered if _REQUEST_ID.match(offered) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        timer = _QueryTimer()
        started = time.perf_counter()
        with connection.execute_wrapper(timer):
            response = self.get_response(request)
        duration = time.perf_counter() - started
        response["X-Request-ID"] = request_id
        user = getattr(request, "user", None)
        actor = getattr(request, "actor", None)
        match = getattr(request, "resolver_match", None)
        log.info("request", extra={
            "request_id": request_id,
            "method": request.method,
            "path": request.path,
            "route": match.route if match is not None else None,
            "status": response.status_code,
            "duration_ms": round(duration * 1000, 1),
            "db_queries": timer.count,
            "db_ms": round(timer.seconds * 1000, 1),
            "user_id": user.pk if user is not None and user.is_authenticated else None,
            "clinic_id": actor.clinic.pk if actor is not None else None,
        })
        return response


def is_disk_full(exc: BaseException) -> bool:
    """SQLite's SQLITE_FULL, PostgreSQL's disk_full (53100), or the operating system's ENOSPC/EDQUOT."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if getattr(current, "sqlstate", None) == "53100":
            return True
        if isinstance(current, DatabaseError) and "database or disk is full" in str(current):
            return True
        current = current.__cause__ or current.__context__
    return False


class DiskFullMiddleware:
    """A write that fails because the disk is full rolled back as a whole (services write inside one
    transaction); say so plainly (507) instead of a bare server error, and log it for the operator."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_disk_full(exception):
            return None
        log.error("disk full", extra={"request_id": getattr(request, "request_id", None), "path": request.path,
                                      "error": type(exception).__name__})
        return render(request, "ops/disk_full.html", {"request_id": getattr(request, "request_id", "")}, status=507)
