"""Outcome-measure speed: loading the instruments file, scoring, judging a change.

A clinic re-scores every active patient's questionnaires in batch (``palpate score --jsonl``), so
one score must stay in the microseconds; loading and validating the knowledge base happens once
per process.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from palpate.core.measures import change_request, score_request
from palpate.core.measures.catalogue import catalogue, rom_catalogue

ODI = {"instrument": "odi", "answers": [2, 2, 2, 2, 2, 2, 1, None, 2, 1]}
BCTQ = {"instrument": "bctq", "answers": {"symptom_severity": [4, 3, 3, 3, 2, 4, 2, 4, 3, 3, 2],
                                          "functional_status": [2, 2, 1, 2, 3, 2, 2, 2]}}
LEFS = {"instrument": "lefs", "answers": [3] * 20}
CHANGE = {"instrument": "odi", "baseline": 40, "follow_up": 28}


def _median_us(action: Callable[[], object], repeat: int = 7, number: int = 2000) -> float:
    """Median over ``repeat`` runs of the mean time of ``number`` calls, in microseconds."""
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            action()
        runs.append((time.perf_counter() - start) / number * 1e6)
    return statistics.median(runs)


def _cold_load() -> None:
    catalogue.cache_clear()
    rom_catalogue.cache_clear()
    catalogue()
    rom_catalogue()


def run() -> list[tuple[str, float, str]]:
    rows = [("measures: load + validate instruments.yaml and rom_norms.yaml (cold)",
             _median_us(_cold_load, repeat=5, number=5) / 1000, "ms")]
    catalogue()  # warm again for the per-call timings
    rows += [
        ("measures: score ODI (one missing section)", _median_us(lambda: score_request(ODI)), "us"),
        ("measures: score LEFS (20 items)", _median_us(lambda: score_request(LEFS)), "us"),
        ("measures: score BCTQ (two scales)", _median_us(lambda: score_request(BCTQ)), "us"),
        ("measures: change ODI 40 -> 28", _median_us(lambda: change_request(CHANGE)), "us"),
    ]
    return rows
