"""The packages of palpate import only downwards (ARCHITECTURE.md), in code and in templates.

Every module's imports are read with ``ast`` (plain, from-, inside functions, under
``TYPE_CHECKING``, and ``importlib.import_module``/``__import__`` by name) and every template's
``{% load %}``, ``{% include %}`` and ``{% extends %}``; each must name a package at the same layer
or below. One order with no ties between apps also means no package cycle can exist.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import palpate

ROOT = Path(palpate.__file__).parent

# Bottom to top. A package may use its own layer and the layers below it, never one above.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("core",),  # the pure clinical core: no Django (tests/core/test_core_is_pure.py)
    ("lib",),  # shared Django helpers: the core adapter, records, vocabulary, page template
    ("audit",),  # the trail
    ("accounts",),  # people
    ("clinics",),  # tenancy, roles, the actor
    ("ops",),  # operations: the background worker and its task API, backups, health
    ("patients",),  # registry, episodes, the access door, the chart's panel slots
    ("evaluations",),
    ("plans",),
    ("reported",),  # what patients report from home (check-ins, home-programme log): the next note reads it
    ("visits",),
    ("outcomes",),
    ("discharge",),  # the end of an episode: reads plans, visits and outcomes; sets the episode's status
    ("scheduling",),  # the clinic's day: appointments, series from the plan, reminders
    ("portal",),  # the patient side: sign-in, one-off links, check-ins, home programme, questionnaires
    ("interop",),  # FHIR API, bulk export, API tokens: reads every clinical app, writes through patients
    ("today",),  # the start page reads every clinical app
    ("demo",),  # the demo writes through every app's services
    ("web", "cli"),  # the project: settings, URLs, API, WSGI, serving, the console script
)
LAYER = {package: level for level, packages in enumerate(LAYERS) for package in packages}


def package_of(path: Path) -> str:
    parts = path.relative_to(ROOT).parts
    return parts[0].removesuffix(".py")


def imported_packages(source: str, name: str) -> list[tuple[int, str]]:
    """(line, palpate package) for every import of palpate in a module's source."""
    found = []
    for node in ast.walk(ast.parse(source, filename=name)):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative imports stay inside their package
                continue
            module = node.module or ""
            modules = [f"{module}.{alias.name}" for alias in node.names] if module == "palpate" else [module]
        elif isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) in (
                "import_module", "__import__"):
            modules = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
        else:
            continue
        for module in modules:
            parts = module.split(".")
            if parts[0] == "palpate" and len(parts) > 1:
                found.append((node.lineno, parts[1]))
    return found


def upward_imports() -> list[str]:
    problems = []
    for path in sorted(ROOT.rglob("*.py")):
        own = package_of(path)
        if own == "__init__":
            continue
        for line, target in imported_packages(path.read_text(encoding="utf-8"), str(path)):
            if target not in LAYER:
                problems.append(f"{path.relative_to(ROOT)}:{line} imports palpate.{target}, which has no layer")
            elif LAYER[target] > LAYER[own]:
                problems.append(f"{path.relative_to(ROOT)}:{line} ({own}) imports palpate.{target}, a layer above")
    return problems


def test_every_package_has_a_layer() -> None:
    packages = {p.name for p in ROOT.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    modules = {p.stem for p in ROOT.glob("*.py") if p.stem != "__init__"}
    assert packages | modules == set(LAYER)


def test_no_module_imports_a_package_above_its_own() -> None:
    assert upward_imports() == []


def test_the_scan_catches_every_way_of_importing_upwards() -> None:
    source = ("from palpate.visits.models import Visit\nimport palpate.today.board\nfrom palpate import demo\n"
              "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from palpate.plans import services\n"
              "def late():\n    from palpate.outcomes import api\n"
              "import importlib\nimportlib.import_module('palpate.web.urls')\nfrom . import sibling\n")
    assert [package for _, package in imported_packages(source, "sample.py")] == [
        "visits", "today", "demo", "plans", "outcomes", "web"]


# -- templates --------------------------------------------------------------------------------------

LOAD = re.compile(r"{%\s*load\s+([^%]+?)\s*%}")
NAMED = re.compile(r"""{%\s*(?:include|extends)\s+["']([^"'#]+)(?:#[^"']*)?["']""")


def template_owner(name: str) -> str | None:
    """The package whose ``templates`` folder holds the template called ``name``."""
    owners = [p.relative_to(ROOT).parts[0] for p in ROOT.glob(f"*/templates/{name}")]
    return owners[0] if owners else None


def tag_library_owners() -> dict[str, str]:
    """Every ``{% load %}`` name, and the palpate package (or the outside library) that provides it."""
    from django.template import engines

    libraries = engines["django"].engine.template_libraries  # type: ignore[attr-defined]
    out = {}
    for name, library in libraries.items():
        module = next((m for m, lib in _library_modules().items() if lib is library), "")
        parts = module.split(".")
        out[name] = parts[1] if parts[0] == "palpate" else "outside"
    return out


def _library_modules() -> dict[str, object]:
    import importlib

    from django.template.backends.django import get_installed_libraries

    return {module: importlib.import_module(module).register for module in get_installed_libraries().values()}


def template_problems() -> list[str]:
    owners = tag_library_owners()
    problems = []
    for path in sorted(ROOT.glob("*/templates/**/*.html")):
        own = package_of(path)
        text = path.read_text(encoding="utf-8")
        where = path.relative_to(ROOT)
        for match in LOAD.finditer(text):
            names = match.group(1).split()
            if "from" in names:  # {% load tag from library %}
                names = names[names.index("from") + 1:]
            for name in names:
                owner = owners.get(name)
                if owner is None:
                    problems.append(f"{where}: loads {name}, which no installed app provides")
                elif owner != "outside" and LAYER[owner] > LAYER[own]:
                    problems.append(f"{where} ({own}) loads {name} of {owner}, a layer above")
        for match in NAMED.finditer(text):
            owner = template_owner(match.group(1))
            if owner is None:
                continue  # a template of Django or a library
            if LAYER[owner] > LAYER[own]:
                problems.append(f"{where} ({own}) uses {match.group(1)} of {owner}, a layer above")
    return problems


@pytest.mark.django_db(databases=[])
def test_no_template_loads_tags_or_includes_templates_of_an_app_above_its_own() -> None:
    assert template_problems() == []


def test_the_template_scan_sees_loads_includes_and_partials() -> None:
    text = ('{% extends "base.html" %}{% load static chart vocabulary %}'
            '{% include "evaluations/_rows.html#row" with kind="rom" %}')
    assert [m.group(1) for m in LOAD.finditer(text)] == ["static chart vocabulary"]
    assert [m.group(1) for m in NAMED.finditer(text)] == ["base.html", "evaluations/_rows.html"]
    assert template_owner("base.html") == "lib" and template_owner("evaluations/_rows.html") == "evaluations"
