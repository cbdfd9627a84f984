"""The console script's plumbing, common to every clinical command (shared/contract/README.md)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

PALPATE = [sys.executable, "-m", "palpate.cli"]
BILL = {"rule": "cms", "services": [{"code": "97112", "minutes": 24}, {"code": "97110", "minutes": 23}]}


def run(args: list[str], stdin: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*PALPATE, *args], input=stdin, capture_output=True, text=True, timeout=60)


def test_it_answers_one_request_with_one_json_document_naming_the_contract():
    proc = run(["bill"], json.dumps(BILL))
    assert proc.returncode == 0 and proc.stderr == ""
    assert json.loads(proc.stdout)["contract"] == "palpate.bill/1"


def test_the_same_input_gives_the_same_bytes():
    assert run(["bill"], json.dumps(BILL)).stdout == run(["bill"], json.dumps(BILL)).stdout


@pytest.mark.parametrize("command", ["plan", "score", "change", "bill"])
@pytest.mark.parametrize("raw, code", [("{not json", "malformed_json"), ("[1, 2]", "wrong_type"), ("", "malformed_json")])
def test_malformed_input_exits_2_with_a_json_error_and_nothing_on_stdout(command, raw, code):
    proc = run([command], raw)
    assert proc.returncode == 2
    assert proc.stdout == ""
    error = json.loads(proc.stderr)["error"]
    assert error["code"] == code and error["message"]
    assert "Traceback" not in proc.stderr


def test_it_reads_the_request_from_a_file_with_input(tmp_path: Path):
    request = tmp_path / "request.json"
    request.write_text(json.dumps({"instrument": "nprs", "answers": [7]}))
    proc = run(["score", "--input", str(request)], "")
    assert proc.returncode == 0 and json.loads(proc.stdout)["score"] == 7


def test_an_unreadable_input_file_is_a_clear_json_error(tmp_path: Path):
    proc = run(["score", "--input", str(tmp_path / "missing.json")], "")
    assert proc.returncode == 2 and json.loads(proc.stderr)["error"]["code"] == "unreadable_input"


def test_batch_mode_answers_every_line_in_order_and_exits_2_if_any_line_was_bad():
    lines = [json.dumps({"instrument": "nprs", "answers": [3]}), "{oops", json.dumps({"instrument": "nprs", "answers": [11]}),
             json.dumps({"instrument": "nprs", "answers": [5]})]
    proc = run(["score", "--jsonl"], "\n".join(lines) + "\n")
    out = [json.loads(line) for line in proc.stdout.splitlines()]
    assert proc.returncode == 2 and len(out) == 4
    assert out[0]["score"] == 3 and out[3]["score"] == 5
    assert out[1]["error"]["code"] == "malformed_json" and out[1]["error"]["path"].startswith("line 2")
    assert out[2]["error"]["code"] == "out_of_range" and out[2]["error"]["path"].startswith("line 3")


def test_batch_mode_with_only_good_lines_exits_0():
    proc = run(["bill", "--jsonl"], json.dumps(BILL) + "\n" + json.dumps(BILL) + "\n")
    assert proc.returncode == 0 and len(proc.stdout.splitlines()) == 2


def test_batch_mode_answers_a_blank_line_with_an_error_so_lines_stay_aligned():
    proc = run(["bill", "--jsonl"], json.dumps(BILL) + "\n\n" + json.dumps(BILL) + "\n")
    out = [json.loads(line) for line in proc.stdout.splitlines()]
    assert proc.returncode == 2 and len(out) == 3
    assert out[1]["error"]["code"] == "empty_line" and out[2]["contract"] == "palpate.bill/1"
