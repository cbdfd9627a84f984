"""How fast the clinical engine answers: knowledge-base load once, then screening and planning.

The goal (issue: clinical engine) is well under a millisecond per patient once the knowledge base
is loaded; a clinic re-screening every active patient after a knowledge-base update relies on it.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from palpate.core.kb.clinical import FILES, build_kb, knowledge_base
from palpate.core.kb.loader import load_yaml
from palpate.core.planning import plan, plan_request
from palpate.core.request import parse_request
from palpate.core.screening import screen

REPEAT = 7
NUMBER = 500

PATIENTS: dict[str, dict[str, Any]] = {
    "safe tendinopathy, remodelling": {
        "patient": {"age": 41},
        "conditions": [{"code": "tendinopathy", "region": "elbow", "side": "left", "onset_days": 56}],
    },
    "wound on the other arm + anticoagulant": {
        "patient": {"age": 67},
        "conditions": [{"code": "tendinopathy", "region": "elbow", "side": "left", "onset_days": 56}],
        "findings": [{"code": "open_wound", "region": "forearm", "side": "right"}, {"code": "anticoagulant_therapy"}],
        "last_session": {"soreness_24h": 6, "soreness_hours": 30, "pressure_tolerance": "moderate"},
    },
    "three conditions, osteoporosis, pregnancy-free": {
        "patient": {"age": 72},
        "conditions": [{"code": "neck_pain", "onset_days": 100},
                       {"code": "muscle_tightness", "region": "shoulder", "side": "right", "onset_days": 100},
                       {"code": "tendinopathy", "region": "ankle", "side": "left", "onset_days": 100}],
        "findings": [{"code": "severe_osteoporosis"}, {"code": "new_pain", "region": "upper_back"}],
        "screens": {"ottawa_ankle": {"side": "left", "malleolar_zone_pain": False}},
    },
    "held: Wells 2003 likely": {
        "patient": {"age": 54},
        "conditions": [{"code": "muscle_strain", "region": "calf", "side": "right", "onset_days": 10}],
        "screens": {"wells": {"version": "2003", "side": "right",
                              "items": ["localised_deep_vein_tenderness", "calf_swelling_3cm", "pitting_oedema"]}},
    },
}


def _median_us(fn: Callable[[], object], number: int = NUMBER) -> float:
    samples = []
    for _ in range(REPEAT):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        samples.append((time.perf_counter() - start) / number * 1e6)
    return statistics.median(samples)


def run() -> list[tuple[str, float, str]]:
    start = time.perf_counter()
    documents = {name: load_yaml(name) for name in FILES}
    parsed_ms = (time.perf_counter() - start) * 1e3
    start = time.perf_counter()
    build_kb(documents)
    validated_ms = (time.perf_counter() - start) * 1e3
    knowledge_base()  # loaded once, as a running process would
    rows: list[tuple[str, float, str]] = [
        ("planning: knowledge base YAML parse (once per process)", parsed_ms, "ms"),
        ("planning: knowledge base validate + index (once per process)", validated_ms, "ms"),
    ]
    for label, payload in PATIENTS.items():
        request = parse_request(payload)
        plan(request)  # warm-up
        rows.append((f"planning: plan() {label}", _median_us(lambda r=request: plan(r)), "us/plan"))
    worst = PATIENTS["three conditions, osteoporosis, pregnancy-free"]
    rows.append(("planning: screen() only, three conditions", _median_us(lambda: screen(parse_request(worst))),
                 "us/call"))
    rows.append(("planning: plan_request() JSON in -> JSON out, three conditions",
                 _median_us(lambda: plan_request(worst)), "us/call"))
    return rows
