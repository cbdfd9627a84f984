"""Real-browser tests: Playwright driving Debian's Chromium against Django's live server.

Playwright's sync API runs an event loop in this thread; Django's ORM refuses to run in a thread
with a running loop unless told it is safe, which it is here (one test at a time).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.personas import fast_password_hashing, live_db, world  # noqa: F401  (pytest fixtures)

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("PALPATE_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
# Flags this sandbox needs: no GPU, no sandbox as root, and no background calls to the network.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


# Per module, not per session: Playwright's driver (a thread and a node process) must be gone
# before the tests that fork (tests/served/test_forking.py), or forked children misbehave.
@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is missing at {CHROMIUM}; `make test` installs it (apt-get install chromium).")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser) -> Iterator[object]:  # noqa: ANN001
    context = browser.new_context(viewport={"width": 1024, "height": 768})  # tablet landscape
    page = context.new_page()
    page.set_default_timeout(10_000)
    # Console errors (a script blocked by the CSP, say) are collected for tests to assert on.
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.console_errors = errors
    yield page
    context.close()


@pytest.fixture
def screenshot(page):  # noqa: ANN001, ANN201
    ARTIFACTS.mkdir(exist_ok=True)

    def take(name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def demo_world(request):  # noqa: ANN001, ANN201
    from palpate.demo.seed import seed_demo

    request.getfixturevalue("live_db")

    seed_demo()


def sign_in(page, base_url: str, username: str, password: str = "palpate-demo") -> None:  # noqa: ANN001
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base_url}/")
