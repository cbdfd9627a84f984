"""`palpate score` and `palpate change` through the console script's entry point (contract v1)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from typing import Any

import pytest

from palpate.cli import main


def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], command: str, text: str,
        *flags: str) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))
    status = main([command, *flags])
    out, err = capsys.readouterr()
    return status, out, err


def ok(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], command: str,
       payload: dict[str, Any]) -> dict[str, Any]:
    status, out, err = run(monkeypatch, capsys, command, json.dumps(payload))
    assert status == 0, err
    assert err == ""
    document: dict[str, Any] = json.loads(out)
    return document


def bad(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], command: str,
        text: str) -> dict[str, str]:
    status, out, err = run(monkeypatch, capsys, command, text)
    assert status == 2
    assert out == ""
    assert "Traceback" not in err
    error: dict[str, str] = json.loads(err)["error"]
    assert error["code"] and error["message"]
    return error


def test_it_scores_the_odi_example_from_the_contract(monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    doc = ok(monkeypatch, capsys, "score", {"instrument": "odi", "answers": [2, 2, 2, 2, 2, 2, 1, None, 2, 1]})
    assert doc["contract"] == "palpate.score/1"
    assert doc["score"] == pytest.approx(35.5556, abs=1e-4)
    assert doc["band"] == "moderate disability"


def test_it_exits_0_with_valid_false_for_too_many_missing(monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    doc = ok(monkeypatch, capsys, "score", {"instrument": "lefs", "answers": [3] * 19 + [None]})
    assert (doc["valid"], doc["score"], doc["reason"]) == (False, None, "too_many_missing")


@pytest.mark.parametrize(("text", "code", "path"), [
    ('{"instrument": "odi", "answers": [2, 2, 2, 9, 2, 2, 2, 2, 2, 2]}', "out_of_range", "answers[3]"),
    ('{"instrument": "odi", "answers": [2, 2, 2]}', "wrong_count", "answers"),
    ('{"instrument": "sf36", "answers": [1]}', "unknown_instrument", "instrument"),
    ('{"instrument": "bctq", "answers": {"symptom_severity": [1,1,1,1,1,1,1,1,1,1,1], '
     '"functional_status": [1,1,1,1,1,1,1,0]}}', "out_of_range", "answers.functional_status[7]"),
    ('{"instrument": "nprs", "answers": [false]}', "wrong_type", "answers[0]"),
    ('{"instrument": "nprs", "answers": [NaN]}', "wrong_type", "answers[0]"),
    ('{"instrument": "nprs"', "malformed_json", ""),
    ('[7]', "wrong_type", ""),
])
def test_it_exits_2_with_a_json_error_for_bad_score_input(monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str],
                                                         text: str, code: str, path: str) -> None:
    error = bad(monkeypatch, capsys, "score", text)
    assert (error["code"], error["path"]) == (code, path)


def test_it_judges_a_change_from_the_contract_example(monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    doc = ok(monkeypatch, capsys, "change", {"instrument": "odi", "baseline": 40, "follow_up": 28})
    assert doc["contract"] == "palpate.change/1"
    assert (doc["change"], doc["percent_change"], doc["mcid"]) == (-12, -30.0, 10)
    assert (doc["meets_mcid"], doc["direction"]) == (True, "improved")


@pytest.mark.parametrize(("text", "code", "path"), [
    ('{"instrument": "odi", "baseline": 40, "follow_up": 140}', "out_of_range", "follow_up"),
    ('{"instrument": "bctq", "baseline": 3, "follow_up": 2}', "missing_field", "scale"),
    ('{"instrument": "nprs", "baseline": "7", "follow_up": 5}', "wrong_type", "baseline"),
])
def test_it_exits_2_with_a_json_error_for_bad_change_input(monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str],
                                                          text: str, code: str, path: str) -> None:
    error = bad(monkeypatch, capsys, "change", text)
    assert (error["code"], error["path"]) == (code, path)


def test_it_answers_every_line_of_a_batch_and_flags_the_bad_one(monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    lines = "\n".join([
        json.dumps({"instrument": "nprs", "answers": [4]}),
        json.dumps({"instrument": "nprs", "answers": [12]}),
        json.dumps({"instrument": "psfs", "answers": [3, 5, 7]}),
    ])
    status, out, _ = run(monkeypatch, capsys, "score", lines, "--jsonl")
    assert status == 2
    answers = [json.loads(line) for line in out.splitlines()]
    assert answers[0]["score"] == 4
    assert answers[1]["error"]["code"] == "out_of_range"
    assert answers[1]["error"]["path"] == "line 2: answers[0]"
    assert answers[2]["score"] == 5.0


def test_it_prints_the_same_bytes_for_the_same_request(monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    text = json.dumps({"instrument": "quickdash", "answers": [2, 3, 2, 1, 1, 4, 2, 3, 3, 2, None]})
    first = run(monkeypatch, capsys, "score", text)
    second = run(monkeypatch, capsys, "score", text)
    assert first == second


def test_it_runs_as_a_console_command_without_django() -> None:
    # The clinical commands use the pure core only: importing Django there would be a layering bug.
    code = ("import sys, io, json; sys.stdin = io.StringIO(json.dumps({'instrument': 'nprs', 'answers': [3]}));"
            "from palpate.cli import main; status = main(['score']);"
            "assert not any(m == 'django' or m.startswith('django.') for m in sys.modules), 'django imported';"
            "sys.exit(status)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["score"] == 3
