"""One drawing of a screen result on every page and PDF (issue 11).

Found in the browser: the plan and visit body charts, and the plan PDF, drew a whole-body pressure
cap (anticoagulants) as "not to be treated", the whole body cross-hatched over the planned
stripes, while the evaluation drew it dotted. Now one function draws a screen result
(``palpate.lib.bodychart.screen_marks``): blocked cross-hatched (class ``forbidden``), capped
dotted with the cap named in the region's title (class ``capped``), planned striped (class
``planned``, its stripes over the restriction's pattern).

Each kind of restriction (a site block, a limb, a segment, a group, a whole-body cap, a
whole-body hold, one side only) is put through the evaluation, the plan of care, a visit under it
and both PDFs, and the SVG of each page is read region by region.
"""

from __future__ import annotations

import datetime as dt
import html as htmllib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.template.loader import render_to_string
from django.utils import timezone

from palpate.clinics.actor import Actor
from palpate.clinics.models import Membership
from palpate.evaluations import services as evaluation_services
from palpate.evaluations.services import EvaluationInput
from palpate.plans import views as plan_views
from palpate.visits import views as visit_views
from tests.web.test_plans import plan_url, start_plan
from tests.web.test_visits import note_url, start

UPPER_LIMB = ("shoulder", "upper_arm", "elbow", "forearm", "wrist", "hand")
LOWER_LIMB = ("hip", "gluteal", "thigh", "knee", "calf", "ankle", "foot")


def actor(world: Any, user: Any = None) -> Actor:
    return Actor.of(Membership.objects.get(clinic=world.harbor, user=user or world.alice))


def evaluate(world: Any, findings: list[dict[str, Any]] = (), vitals: dict[str, Any] | None = None,  # type: ignore[assignment]
             on: dt.date | None = None) -> Any:
    """An evaluation saved through its services (screened by the core), for Harbor's low back pain."""
    typed = EvaluationInput(performed_on=on or timezone.localdate(), chief_complaint="Low back pain after lifting",
                            findings=list(findings), vitals=dict(vitals or {}))
    checked = evaluation_services.check_evaluation(actor(world), world.harbor_patient, world.harbor_episode, typed)
    assert checked.ok, checked.error
    return evaluation_services.do_save_evaluation(actor(world), world.harbor_patient, world.harbor_episode, checked)


@dataclass
class Cell:
    classes: set[str]
    title: str
    fills: list[str] = field(default_factory=list)

    @property
    def overlay(self) -> bool:
        return "url(#pp-stripes-over)" in self.fills


def chart(page: str, chart_id: str) -> dict[tuple[str, str], Cell]:
    """Every region of one chart on a page: its classes, its title and the fills it is drawn with."""
    found = re.search(rf'<svg id="{re.escape(chart_id)}".*?</svg>', page, re.S)
    assert found, f"no chart {chart_id!r} on the page"
    cells: dict[tuple[str, str], Cell] = {}
    for match in re.finditer(r'<g class="([^"]*)" data-region="([^"]*)" data-side="([^"]*)"[^>]*>'
                             r"<title>([^<]*)</title>(.*?)</g>", found.group(0), re.S):
        classes, region, side, title, shapes = match.groups()
        cell = Cell(set(classes.split()), htmllib.unescape(title), re.findall(r'fill="([^"]+)"', shapes))
        cells.setdefault((region, side), cell)
    assert len(cells) > 20
    return cells


@pytest.fixture
def printed(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The HTML each PDF is rendered from (the real PDF is still made and returned)."""
    pages: dict[str, str] = {}
    for module in (plan_views, visit_views):
        real = module.render_pdf

        def capture(template: str, context: dict[str, Any], request: Any = None, real: Any = real) -> bytes:
            pages[template] = render_to_string(template, context, request=request)
            return real(template, context, request)  # type: ignore[no-any-return]

        monkeypatch.setattr(module, "render_pdf", capture)
    return pages


def every_page(client: Any, world: Any, printed: dict[str, str], evaluation: Any,
               check: Callable[[str, dict[tuple[str, str], Cell]], None]) -> None:
    """``check`` each chart as its page is drawn: the evaluation, the plan editor and page, the plan
    PDF, a visit under the plan and its PDF."""
    plan = start_plan(client, world)
    check("evaluation", chart(client.get(f"/patients/{world.harbor_patient.pk}/evaluations/{evaluation.pk}/")
                              .content.decode(), "screen-chart"))
    check("plan editor", chart(client.get(plan_url(plan, "edit/")).content.decode(), "plan-chart"))
    check("plan detail", chart(client.get(plan_url(plan)).content.decode(), "plan-chart"))
    pdf = client.get(plan_url(plan, "plan.pdf"))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    check("plan PDF", chart(printed["plans/plan_pdf.html"], "pdf-chart"))
    visit = start(client, world)  # under the draft plan (a draft's start date is not known yet)
    check("visit note", chart(client.get(note_url(visit)).content.decode(), "visit-chart"))
    pdf = client.get(f"{note_url(visit)}note.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    check("visit PDF", chart(printed["visits/note_pdf.html"], "pdf-visit-chart"))


def blocked(cell: Cell) -> bool:
    return "forbidden" in cell.classes and "url(#pp-hatch)" in cell.fills


def capped(cell: Cell) -> bool:
    return "capped" in cell.classes and "url(#pp-dots)" in cell.fills and "forbidden" not in cell.classes


def clear(cell: Cell) -> bool:
    return not ({"forbidden", "capped"} & cell.classes)


def planned(cell: Cell) -> bool:
    """Striped: on its own (``pp-stripes``), or over a restriction (the overlay)."""
    return "planned" in cell.classes and (cell.overlay or "url(#pp-stripes)" in cell.fills)


PLAN_PAGES = ("plan editor", "plan detail", "plan PDF", "visit note", "visit PDF")


def test_a_whole_body_pressure_cap_is_dotted_with_its_cap_named_and_the_planned_stripes_show_on_every_page(
        world, as_user, printed):
    evaluation = evaluate(world, [{"code": "anticoagulant_therapy"}])

    def check(name: str, cells: dict[tuple[str, str], Cell]) -> None:
        for key, cell in cells.items():
            assert capped(cell), (name, key, cell)
            assert "light pressure at most for effleurage" in cell.title, (name, key, cell.title)
            assert "anticoagulant" in cell.title.lower(), (name, key, cell.title)
            assert "no deep transverse friction" in cell.title, (name, key, cell.title)
        if name in PLAN_PAGES:
            back = cells[("lower_back", "")]
            assert planned(back) and back.overlay, (name, back)
            assert "planned:" in back.title and "capped:" in back.title

    every_page(as_user(world.alice), world, printed, evaluation, check)


def test_a_site_block_on_one_side_is_cross_hatched_there_only(world, as_user, printed):
    evaluation = evaluate(world, [{"code": "open_wound", "region": "calf", "side": "right"}])

    def check(name: str, cells: dict[tuple[str, str], Cell]) -> None:
        right, left = cells[("calf", "right")], cells[("calf", "left")]
        assert blocked(right) and "blocked" in right.title and "open or healing wound" in right.title, (name, right)
        assert clear(left), (name, left)
        assert clear(cells[("thigh", "right")]), name
        if name in PLAN_PAGES:
            assert planned(cells[("lower_back", "")]) and clear(cells[("lower_back", "")]), name

    every_page(as_user(world.alice), world, printed, evaluation, check)


def test_a_limb_restriction_covers_that_limb_only_with_its_cap(world, as_user, printed):
    evaluation = evaluate(world, [{"code": "lymphoedema", "region": "forearm", "side": "left"}])

    def check(name: str, cells: dict[tuple[str, str], Cell]) -> None:
        for region in UPPER_LIMB:
            cell = cells[(region, "left")]
            assert capped(cell) and "light pressure at most for effleurage" in cell.title, (name, region, cell)
            assert "lymphoedema" in cell.title.lower()
            assert clear(cells[(region, "right")]), (name, region)
        assert clear(cells[("calf", "left")]), name

    every_page(as_user(world.alice), world, printed, evaluation, check)


def test_a_fracture_blocks_its_site_and_caps_its_segment(world, as_user, printed):
    evaluation = evaluate(world, [{"code": "recent_fracture", "region": "forearm", "side": "right", "days_ago": 10}])

    def check(name: str, cells: dict[tuple[str, str], Cell]) -> None:
        assert blocked(cells[("forearm", "right")]), name
        segment = [r for r in UPPER_LIMB if capped(cells[(r, "right")])]
        assert segment, f"{name}: the fracture's segment is capped"
        assert all("moderate pressure at most" in cells[(r, "right")].title for r in segment), name
        assert all(clear(cells[(r, "left")]) for r in UPPER_LIMB), name

    every_page(as_user(world.alice), world, printed, evaluation, check)


def test_a_finding_on_a_group_blocks_every_region_of_the_group_on_its_side(world, as_user, printed):
    evaluation = evaluate(world, [{"code": "burn", "region": "upper_limb", "side": "left"}])

    def check(name: str, cells: dict[tuple[str, str], Cell]) -> None:
        for region in UPPER_LIMB:
            assert blocked(cells[(region, "left")]) and "burn" in cells[(region, "left")].title.lower(), (name, region)
            assert clear(cells[(region, "right")]), (name, region)
        assert all(clear(cells[(region, "left")]) for region in LOWER_LIMB), name

    every_page(as_user(world.alice), world, printed, evaluation, check)


def test_a_held_session_blocks_the_whole_body(world, as_user, printed):
    evaluation = evaluate(world, vitals={"temperature_c": 38.6})

    def check(name: str, cells: dict[tuple[str, str], Cell]) -> None:
        for key, cell in cells.items():
            assert blocked(cell) and "session held" in cell.title, (name, key, cell.title)
            assert "planned" not in cell.classes, (name, key)

    every_page(as_user(world.alice), world, printed, evaluation, check)


def test_the_drawing_names_what_blocks_a_region_not_a_cap_it_also_lies_under():
    from palpate.lib.bodychart import render_screen_chart

    screen = {"restrictions": [
        {"region": "whole_body", "side": None, "techniques": ["friction", "trigger_point"], "max_pressure": "none",
         "because": ["anticoagulant_therapy"]},
        {"region": "whole_body", "side": None, "techniques": ["effleurage", "petrissage", "myofascial_release"],
         "max_pressure": "light", "because": ["anticoagulant_therapy"]},
        {"region": "calf", "side": "right", "techniques": ["effleurage", "petrissage", "friction",
                                                           "myofascial_release", "trigger_point"],
         "max_pressure": "none", "because": ["open_wound"]},
    ]}
    svg = render_screen_chart(screen, [{"technique": "effleurage", "region": "calf", "side": "left",
                                        "pressure": "light", "minutes": 5}], chart_id="c")
    cells = chart(str(svg), "c")
    assert blocked(cells[("calf", "right")]) and "anticoagulant" not in cells[("calf", "right")].title.lower()
    left = cells[("calf", "left")]
    assert capped(left) and left.overlay and "planned: effleurage, light, 5 min" in left.title
