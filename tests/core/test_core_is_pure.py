"""palpate.core is the pure clinical core: no module under it may import Django (DESIGN.md)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import palpate.core

CORE = Path(palpate.core.__file__).parent


def django_imports(source: str, name: str) -> list[str]:
    """Every import of django in a module's source: plain, from-, and importlib/__import__ by name."""
    found = []
    for node in ast.walk(ast.parse(source, filename=name)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        elif isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) in (
                "import_module", "__import__"):
            names = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
        else:
            continue
        found += [f"{name}:{node.lineno} imports {n}" for n in names if n == "django" or n.startswith("django.")]
    return found


def test_no_module_under_palpate_core_imports_django() -> None:
    modules = sorted(CORE.rglob("*.py"))
    assert len(modules) > 5
    problems = [p for m in modules for p in django_imports(m.read_text(encoding="utf-8"), str(m.relative_to(CORE)))]
    assert problems == []


def test_the_scan_catches_every_way_of_importing_django() -> None:
    source = ("from django.db import models\nimport django\nimport importlib\n"
              "importlib.import_module('django.conf')\n__import__('django.utils')\nimport djangonaut\n")
    assert django_imports(source, "sample.py") == [
        "sample.py:1 imports django.db", "sample.py:2 imports django",
        "sample.py:4 imports django.conf", "sample.py:5 imports django.utils"]


def test_planning_runs_in_a_process_without_django_loaded() -> None:
    code = ("import sys; from palpate.core.planning import plan_request; "
            "plan_request({'conditions': [{'code': 'neck_pain'}]}); "
            "print('django' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
