"""FHIR errors: each is an OperationOutcome with the HTTP status that fits and words that say what to fix."""

from __future__ import annotations

from typing import Any


class FhirError(Exception):
    """``status`` HTTP status; ``code`` the OperationOutcome issue type (http://hl7.org/fhir/issue-type)."""

    def __init__(self, status: int, code: str, diagnostics: str, expression: list[str] | None = None,
                 headers: dict[str, str] | None = None, issues: list[dict[str, Any]] | None = None,
                 details: dict[str, Any] | None = None) -> None:
        super().__init__(diagnostics)
        self.status = status
        self.code = code
        self.diagnostics = diagnostics
        self.expression = expression or []
        self.headers = headers or {}
        self.extra_issues = issues or []
        self.details = details  # a CodeableConcept for the issue (e.g. a scheduling refusal's stable code)

    def outcome(self) -> dict[str, Any]:
        issue: dict[str, Any] = {"severity": "error", "code": self.code, "diagnostics": self.diagnostics}
        if self.details:
            issue["details"] = self.details
        if self.expression:
            issue["expression"] = self.expression
        return operation_outcome([issue, *self.extra_issues])


def operation_outcome(issues: list[dict[str, Any]]) -> dict[str, Any]:
    return {"resourceType": "OperationOutcome", "issue": issues}


def not_found(resource_type: str, resource_id: str) -> FhirError:
    # The same words whether the record never existed or belongs to another clinic.
    return FhirError(404, "not-found", f"{resource_type}/{resource_id} is not a resource of your clinic. "
                                       "Check the id (search the resource type to list what there is).")


def bad_search(parameter: str, problem: str) -> FhirError:
    return FhirError(400, "invalid", f"Search parameter {parameter}: {problem}", expression=[parameter])


def invalid(problem: str, expression: list[str] | None = None, status: int = 422,
            issues: list[dict[str, Any]] | None = None) -> FhirError:
    code = "processing" if status == 422 else "structure"
    return FhirError(status, code, problem, expression, issues=issues)


def forbidden(problem: str) -> FhirError:
    return FhirError(403, "forbidden", problem)


def conflict(problem: str) -> FhirError:
    """A write that clashes with the record as it is now (an appointment that overlaps another): 409."""
    return FhirError(409, "conflict", problem)
