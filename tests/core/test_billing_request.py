"""``palpate bill``: request validation, the response shape, warnings, and the command line."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from palpate import cli
from palpate.core.billing import bill_request
from palpate.core.errors import InputError


def bill(**payload: Any) -> dict[str, Any]:
    return bill_request(payload)


def error_of(payload: Any) -> InputError:
    with pytest.raises(InputError) as caught:
        bill_request(payload)
    return caught.value


def kinds(response: dict[str, Any]) -> list[str]:
    return [w["kind"] for w in response["warnings"]]


# -- response ---------------------------------------------------------------------------------------------

def test_it_answers_the_contract_example() -> None:
    out = bill(rule="cms", services=[{"code": "97112", "minutes": 24}, {"code": "97110", "minutes": 23}])
    assert out["contract"] == "palpate.bill/1"
    assert out["rule"] == "cms"
    assert out["total_timed_minutes"] == 47
    assert out["total_timed_units"] == 3
    assert out["units"] == {"97112": 2, "97110": 1}
    assert out["warnings"] == []
    assert [line["code"] for line in out["lines"]] == ["97112", "97110"]
    assert out["lines"][0]["basis"][1].startswith("unit 2: the 9 leftover minutes of 97112")


def test_it_lists_every_input_code_including_untimed_and_unbilled_ones() -> None:
    out = bill(services=[{"code": "97140", "minutes": 5}, {"code": "97010", "minutes": 10}, {"code": "97161"}])
    assert out["units"] == {"97140": 0, "97010": 1, "97161": 1}
    assert out["total_timed_minutes"] == 5
    assert out["total_timed_units"] == 0


def test_it_uses_the_cms_rule_when_none_is_given() -> None:
    out = bill(services=[{"code": "97110", "minutes": 33}, {"code": "97140", "minutes": 7}])
    assert (out["rule"], out["rule_basis"]) == ("cms", "default")
    assert out["units"] == {"97110": 2, "97140": 1}


def test_it_takes_the_rule_from_the_payer_when_the_request_gives_none() -> None:
    out = bill(payer="medicare", services=[{"code": "97110", "minutes": 20}])
    assert (out["rule"], out["rule_basis"], out["payer"]) == ("cms", "payer", "medicare")


def test_it_counts_with_the_asked_rule_but_warns_when_it_differs_from_the_payers() -> None:
    out = bill(payer="medicare", rule="per_code", services=[{"code": "97110", "minutes": 33}, {"code": "97140", "minutes": 7}])
    assert out["units"] == {"97110": 2, "97140": 0}
    assert "rule_differs_from_payer" in kinds(out)


def test_it_accepts_whole_minutes_written_as_decimals_and_codes_in_any_case() -> None:
    out = bill(services=[{"code": " g0283 "}, {"code": "97140", "minutes": 15.0}])
    assert out["units"] == {"G0283": 1, "97140": 1}


def test_it_ignores_fields_it_does_not_know() -> None:
    out = bill(services=[{"code": "97140", "minutes": 15, "region": "neck"}], note="left side")
    assert out["units"] == {"97140": 1}


def test_it_gives_identical_bytes_for_identical_requests() -> None:
    payload = {"rule": "cms", "payer": "medicare", "services": [{"code": "97112", "minutes": 20},
               {"code": "97110", "minutes": 20}, {"code": "97014"}, {"code": "97161"}, {"code": "97140", "minutes": 9}]}
    assert json.dumps(bill_request(payload)) == json.dumps(bill_request(json.loads(json.dumps(payload))))


# -- warnings ----------------------------------------------------------------------------------------------

def test_it_warns_that_medicare_wants_g0283_for_97014_without_changing_the_code() -> None:
    out = bill(payer="medicare", services=[{"code": "97014"}])
    assert out["units"] == {"97014": 1}
    warning = out["warnings"][0]
    assert warning["kind"] == "payer_code"
    assert warning["codes"] == ["97014", "G0283"]
    assert "G0283" in warning["message"]


def test_it_warns_that_medicare_bundles_97010_and_says_this_is_unverified() -> None:
    out = bill(payer="medicare", services=[{"code": "97010"}, {"code": "97110", "minutes": 15}])
    (warning,) = out["warnings"]
    assert (warning["kind"], warning["status"]) == ("payer_bundled", "unverified")


def test_it_does_not_warn_about_97014_for_a_commercial_payer() -> None:
    assert bill(payer="commercial", services=[{"code": "97014"}])["warnings"] == []


def test_it_suggests_modifier_59_for_manual_therapy_on_the_day_of_an_evaluation() -> None:
    out = bill(services=[{"code": "97162"}, {"code": "97140", "minutes": 15}])
    (warning,) = out["warnings"]
    assert warning["kind"] == "ncci_pair"
    assert warning["codes"] == ["97162", "97140"]
    assert warning["suggested_modifier"] == "59"
    assert {"XE", "XS", "XP", "XU"} <= set(warning["modifiers"])
    assert out["units"] == {"97162": 1, "97140": 1}  # a warning, never a silent change


def test_it_does_not_warn_about_a_pair_when_one_code_bills_no_unit() -> None:
    out = bill(services=[{"code": "97161"}, {"code": "97140", "minutes": 7}])
    assert out["units"]["97140"] == 0
    assert out["warnings"] == []


def test_it_reports_the_evaluation_level_the_components_support() -> None:
    out = bill(services=[{"code": "97163"}],
               evaluation={"history": 3, "examination": 4, "presentation": "evolving", "decision": "high"})
    assert out["evaluation"]["code"] == "97162"
    assert out["evaluation"]["limited_by"] == ["presentation"]
    (warning,) = out["warnings"]
    assert warning["kind"] == "evaluation_level"
    assert "above" in warning["message"]


def test_it_warns_about_two_evaluation_levels_on_one_date() -> None:
    assert "several_evaluation_levels" in kinds(bill(services=[{"code": "97161"}, {"code": "97162"}]))


def test_it_warns_on_the_visit_that_crosses_the_kx_threshold() -> None:
    out = bill(services=[{"code": "97110", "minutes": 30}], date_of_service="2024-06-03",
               year_to_date_charges=2300, charges=50)
    assert out["kx"]["threshold"] == 2330.0
    assert out["kx"]["state"] == "crosses"
    assert out["kx"]["kx_required"] is True
    assert kinds(out) == ["kx_required"]
    assert out["warnings"][0]["suggested_modifier"] == "KX"


def test_it_warns_before_the_kx_threshold_is_crossed() -> None:
    out = bill(services=[{"code": "97110", "minutes": 30}], year=2025, year_to_date_charges=2100, charges=100)
    assert out["kx"]["state"] == "approaching"
    assert kinds(out) == ["kx_approaching"]


def test_it_marks_the_2026_kx_threshold_unverified() -> None:
    out = bill(services=[{"code": "97110", "minutes": 30}], year=2026, year_to_date_charges=0, charges=100)
    assert (out["kx"]["threshold"], out["kx"]["threshold_status"]) == (2480.0, "unverified")


def test_it_warns_rather_than_fails_for_a_year_without_a_stored_kx_threshold() -> None:
    out = bill(services=[{"code": "97110", "minutes": 30}], year=2031, year_to_date_charges=0, charges=100)
    assert out["kx"]["state"] == "unknown"
    assert kinds(out) == ["kx_threshold_unknown"]


def test_it_does_not_warn_about_kx_for_a_payer_it_does_not_apply_to() -> None:
    out = bill(payer="commercial", services=[{"code": "97110", "minutes": 30}], year=2024,
               year_to_date_charges=5000, charges=100)
    assert out["kx"]["applies"] is False
    assert out["warnings"] == []


# -- bad input ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("payload", "code", "path"), [
    ({"services": [{"code": "97140", "minutes": 10}, {"code": "99999", "minutes": 10}]}, "unknown_code", "services[1].code"),
    ({"services": [{"code": "97140", "minutes": -1}]}, "out_of_range", "services[0].minutes"),
    ({"services": [{"code": "97140", "minutes": 481}]}, "out_of_range", "services[0].minutes"),
    ({"services": [{"code": "97140", "minutes": 300}, {"code": "97110", "minutes": 200}]}, "out_of_range", "services"),
    ({"services": [{"code": "97140", "minutes": 7.5}]}, "wrong_type", "services[0].minutes"),
    ({"services": [{"code": "97140", "minutes": True}]}, "wrong_type", "services[0].minutes"),
    ({"services": [{"code": "97140", "minutes": "15"}]}, "wrong_type", "services[0].minutes"),
    ({"services": [{"code": "97140", "minutes": float("nan")}]}, "wrong_type", "services[0].minutes"),
    ({"services": [{"code": "97140"}]}, "missing_field", "services[0].minutes"),
    ({"services": [{"minutes": 15}]}, "missing_field", "services[0].code"),
    ({"services": [{"code": 97140, "minutes": 15}]}, "wrong_type", "services[0].code"),
    ({"services": ["97140"]}, "wrong_type", "services[0]"),
    ({"services": []}, "out_of_range", "services"),
    ({"services": {"code": "97140"}}, "wrong_type", "services"),
    ({}, "missing_field", "services"),
    ({"rule": "medicare", "services": [{"code": "97140", "minutes": 15}]}, "unknown_rule", "rule"),
    ({"rule": "CMS", "services": [{"code": "97140", "minutes": 15}]}, "unknown_rule", "rule"),
    ({"rule": 1, "services": [{"code": "97140", "minutes": 15}]}, "wrong_type", "rule"),
    ({"payer": "acme", "services": [{"code": "97140", "minutes": 15}]}, "unknown_code", "payer"),
    ({"services": [{"code": "97140", "minutes": 15}], "charges": 10}, "missing_field", "year_to_date_charges"),
    ({"services": [{"code": "97140", "minutes": 15}], "year_to_date_charges": 10}, "missing_field", "date_of_service"),
    ({"services": [{"code": "97140", "minutes": 15}], "year": 2024, "year_to_date_charges": -5}, "out_of_range",
     "year_to_date_charges"),
    ({"services": [{"code": "97140", "minutes": 15}], "date_of_service": "2024-13-01"}, "wrong_type", "date_of_service"),
    ({"services": [{"code": "97140", "minutes": 15}], "date_of_service": "2024-01-05", "year": 2023}, "out_of_range", "year"),
    ({"services": [{"code": "97161"}], "evaluation": {"history": 1, "examination": 0, "presentation": "stable",
                                                      "decision": "low"}}, "out_of_range", "evaluation.examination"),
    ({"services": [{"code": "97161"}], "evaluation": {"history": 1, "examination": 2, "presentation": "calm",
                                                      "decision": "low"}}, "unknown_code", "evaluation.presentation"),
    ({"services": [{"code": "97161"}], "evaluation": {"history": 1, "examination": 2, "presentation": "stable"}},
     "missing_field", "evaluation.decision"),
])
def test_it_rejects_bad_input_with_a_code_and_a_path(payload: dict[str, Any], code: str, path: str) -> None:
    error = error_of(payload)
    assert (error.code, error.path) == (code, path)
    assert error.message


def test_it_names_the_codes_it_knows_when_a_code_is_unknown() -> None:
    assert "97140" in error_of({"services": [{"code": "97999", "minutes": 10}]}).message


def test_it_accepts_eight_hours_exactly() -> None:
    assert bill(services=[{"code": "97110", "minutes": 480}])["total_timed_units"] == 32


# -- the command line -----------------------------------------------------------------------------------

def run_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, *flags: str) -> tuple[int, str, str]:
    request = tmp_path / "request.json"
    request.write_text(text, encoding="utf-8")
    status = cli.main(["bill", "--input", str(request), *flags])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_the_command_prints_the_response_and_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run_cli(tmp_path, capsys, '{"rule": "cms", "services": [{"code": "97140", "minutes": 23}]}')
    assert status == 0
    assert json.loads(out)["units"] == {"97140": 2}
    assert err == ""


def test_the_command_exits_2_with_a_json_error_and_no_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run_cli(tmp_path, capsys, '{"services": [{"code": "97140", "minutes": 900}]}')
    assert status == 2
    assert out == ""
    assert json.loads(err)["error"]["path"] == "services[0].minutes"
    assert "Traceback" not in err


def test_the_command_answers_every_line_in_batch_mode(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = "\n".join([
        '{"services": [{"code": "97140", "minutes": 8}]}',
        '{"rule": "fast", "services": [{"code": "97140", "minutes": 8}]}',
        '{"services": [{"code": "97110", "minutes": 23}]}',
    ])
    status, out, _ = run_cli(tmp_path, capsys, lines, "--jsonl")
    answers = [json.loads(line) for line in io.StringIO(out)]
    assert status == 2
    assert answers[0]["units"] == {"97140": 1}
    assert answers[1]["error"]["code"] == "unknown_rule"
    assert answers[2]["units"] == {"97110": 2}
