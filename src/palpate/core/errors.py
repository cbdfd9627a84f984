"""Errors the core raises for bad input, shaped for the command-line contract and the API."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class InputError(Exception):
    """Bad input a person can fix: an unknown code, a value out of range, a missing field.

    `code` is a stable machine-readable word (``unknown_code``, ``out_of_range``, ...), `message`
    tells a person what to fix and `path` points into the request (``answers[3]``).
    """

    code: str
    message: str
    path: str = ""

    def __str__(self) -> str:
        where = f" at {self.path}" if self.path else ""
        return f"{self.code}{where}: {self.message}"

    def as_json(self) -> dict[str, dict[str, str]]:
        return {"error": {"code": self.code, "message": self.message, "path": self.path}}


class KnowledgeBaseError(Exception):
    """A knowledge-base file is malformed. Names the file, the key and the problem."""

    def __init__(self, file: str, key: str, problem: str) -> None:
        self.file = file
        self.key = key
        self.problem = problem
        super().__init__(f"{file}: {key}: {problem}")
