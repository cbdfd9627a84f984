"""How fast billing answers: unit counting alone and a whole ``palpate bill`` request."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from palpate.core.billing import Service, bill_request, catalogue, count_units

REPEAT = 7
NUMBER = 2000

VISIT = [Service("97110", 18), Service("97140", 13), Service("97116", 10), Service("97035", 8)]
REQUEST = {
    "rule": "cms",
    "payer": "medicare",
    "services": [{"code": "97163"}, {"code": "97140", "minutes": 23}, {"code": "97110", "minutes": 20},
                 {"code": "97014"}, {"code": "97530", "minutes": 9}],
    "evaluation": {"history": 2, "examination": 4, "presentation": "evolving", "decision": "moderate"},
    "date_of_service": "2025-10-02",
    "year_to_date_charges": 2150,
    "charges": 180.25,
}


def _median_us(fn: Callable[[], object]) -> float:
    samples = []
    for _ in range(REPEAT):
        start = time.perf_counter()
        for _ in range(NUMBER):
            fn()
        samples.append((time.perf_counter() - start) / NUMBER * 1e6)
    return statistics.median(samples)


def run() -> list[tuple[str, float, str]]:
    catalogue()  # load once, as a running process would
    return [
        ("billing: count_units, 4 timed services (CMS Ex4)", _median_us(lambda: count_units(VISIT, "cms")), "us/call"),
        ("billing: bill_request with payer, evaluation and KX", _median_us(lambda: bill_request(REQUEST)), "us/call"),
    ]
