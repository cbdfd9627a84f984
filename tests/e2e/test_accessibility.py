"""WCAG 2.1 A and AA on every staff page, checked with axe-core in Chromium at 1366 and 390 px.

The crawl signs in as each staff role on the demo data and opens one page of every URL pattern a
person opens (tests/e2e/staff_pages.py, checked against the URL resolver). A page fails on any
axe-core violation tagged wcag2a, wcag2aa, wcag21a or wcag21aa, or when it is wider than the
screen (``scrollWidth`` above the viewport's width: a sideways scroll).

Bounded: one browser, one context per role, one tab reused. Every role opens, at both widths, the
pages it may reach (a 403 is that role's answer, not a finding): about three minutes.
"""

from __future__ import annotations

import time

import pytest

from tests.e2e.conftest import sign_in
from tests.e2e.staff_pages import (
    NOT_PAGE_NAMESPACES,
    NOT_PAGES,
    SIGNED_OUT_PAGES,
    STAFF_PAGES,
    demo_ids,
    resolver_names,
)

pytestmark = pytest.mark.e2e

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
OTHER_ROLES = {"therapist": "harbor-pt", "front desk": "harbor-desk", "assistant": "harbor-assistant",
               "auditor": "harbor-auditor"}


def page_findings(page, where: str) -> list[str]:  # noqa: ANN001
    """What is wrong with the page on screen: WCAG A/AA violations and a sideways scroll."""
    from axe_playwright_python.sync_playwright import Axe

    found = []
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
    for violation in results.response["violations"]:
        targets = [node["target"] for node in violation["nodes"]][:4]
        found.append(f"{where}: axe {violation['id']} ({violation['impact']}) at {targets}")
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    if width[0] > width[1]:
        wide = page.evaluate("""() => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
            .slice(0, 4).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
                                   (e.className && typeof e.className === 'string' ? '.' + e.className.split(' ')[0] : ''))""")
        found.append(f"{where}: {width[0]} px wide on a {width[1]} px screen (widest: {wide})")
    return found


def test_every_url_pattern_is_crawled_or_named_as_not_a_page():
    names = resolver_names()
    namespaced_away = {n for n in names if n.split(":")[0] in NOT_PAGE_NAMESPACES and ":" in n}
    unplaced = names - set(STAFF_PAGES) - set(NOT_PAGES) - set(SIGNED_OUT_PAGES) - namespaced_away
    assert not unplaced, f"add these URL patterns to tests/e2e/staff_pages.py (a page, or why not): {sorted(unplaced)}"
    stale = (set(STAFF_PAGES) | set(NOT_PAGES) | set(SIGNED_OUT_PAGES)) - names
    assert not stale, f"tests/e2e/staff_pages.py names patterns the resolver no longer has: {sorted(stale)}"


def _add_demo_roles() -> None:
    """The demo has no assistant or auditor: two colleagues at Harbor with those roles."""
    from palpate.accounts.models import User
    from palpate.clinics.models import Clinic, Membership
    from palpate.clinics.roles import Role
    from palpate.demo.seed import demo_password

    harbor = Clinic.objects.get(slug="harbor")
    for username, role in (("harbor-assistant", Role.ASSISTANT), ("harbor-auditor", Role.AUDITOR)):
        user = User.objects.create_user(username=username, password=demo_password(), first_name=username)
        Membership.objects.create(clinic=harbor, user=user, role=role)


def test_every_staff_page_meets_wcag_21_aa_and_fits_the_screen_for_every_role(demo_world, live_server, browser):
    _add_demo_roles()
    ids = demo_ids()
    pages = {name: path(ids) for name, path in STAFF_PAGES.items()}
    findings: list[str] = []
    started = time.monotonic()

    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.set_default_timeout(15_000)
    for name, path in SIGNED_OUT_PAGES.items():
        for viewport in (DESKTOP, PHONE):
            page.set_viewport_size(viewport)
            page.goto(live_server.url + path)
            findings += page_findings(page, f"signed out, {name} {path} at {viewport['width']}")
    sign_in(page, live_server.url, "harbor-owner")
    for viewport in (DESKTOP, PHONE):
        page.set_viewport_size(viewport)
        for name, path in pages.items():
            response = page.goto(live_server.url + path)
            if response is None or response.status != 200:
                findings.append(f"owner: {name} {path} answered {response and response.status}")
            findings += page_findings(page, f"owner, {name} {path} at {viewport['width']}")
    context.close()

    reached: dict[str, int] = {}
    for role, username in OTHER_ROLES.items():
        context = browser.new_context(viewport=DESKTOP)
        page = context.new_page()
        page.set_default_timeout(15_000)
        sign_in(page, live_server.url, username)
        reached[role] = 0
        for viewport in (DESKTOP, PHONE):
            page.set_viewport_size(viewport)
            for name, path in pages.items():
                response = page.goto(live_server.url + path)
                assert response is not None
                if response.status == 403:
                    continue
                if response.status != 200:
                    findings.append(f"{role}: {name} {path} answered {response.status}")
                reached[role] += viewport is DESKTOP
                findings += page_findings(page, f"{role}, {name} {path} at {viewport['width']}")
        context.close()

    elapsed = time.monotonic() - started
    print(f"\naccessibility crawl: {len(pages)} pages, every role at 1366 and 390 (pages per role {reached}): "
          f"{elapsed:.0f} s")
    assert all(reached.values()), f"a role reached no page at all: {reached}"
    assert not findings, f"{len(findings)} accessibility findings:\n" + "\n".join(findings)
