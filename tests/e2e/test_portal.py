"""The patient side in a real browser on a phone-sized screen, checked with axe-core.

1. A patient opens a check-in link at 390 px, reports calf pain with swelling and is told to call;
   the therapist's Today shows the urgent flag and the next visit note shows the reported soreness
   and the carried rows one pressure level lower.
2. At 360 px a patient signs in, logs the home programme and fills an ODI at home; the therapist
   sees the adherence on the chart and the score, marked as reported by the patient, in outcomes.
Every patient page passes axe-core with no serious or critical violation and needs no sideways scroll.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from tests.e2e.conftest import sign_in
from tests.portal.conftest import PATIENT_PASSWORD, make_account, signed_plan, signed_visit

pytestmark = pytest.mark.e2e

PHONE = "555-0142"


def assert_accessible_and_fits(page, where: str) -> None:  # noqa: ANN001
    from axe_playwright_python.sync_playwright import Axe

    page.wait_for_load_state("load")
    results = Axe().run(page)
    bad = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
           for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert not bad, f"{where}: axe-core found serious or critical violations: {bad}"
    fits = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    assert fits, f"{where}: the page is wider than the screen"
    assert page.get_by_text("Harbor Physical Therapy").first.is_visible(), f"{where}: no clinic name"


def _phone(browser, width: int):  # noqa: ANN001, ANN202
    context = browser.new_context(viewport={"width": width, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    return context, page


@pytest.fixture
def clinic_ready(world, live_db, settings):  # noqa: ANN001, ANN201
    from palpate.portal.models import PortalSettings

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    PortalSettings.objects.create(clinic=world.harbor, phone=PHONE)
    world.harbor_patient.email = "maria@example.org"
    world.harbor_patient.save()
    return world


def test_a_patient_reports_calf_pain_and_the_therapist_sees_the_flag_and_the_lowered_rows(
        live_server, clinic_ready, browser, settings):
    from django.core import mail

    from palpate.portal.checkins import do_create_check_in, send_due

    world = clinic_ready
    settings.PALPATE_BASE_URL = live_server.url
    visit = signed_visit(world, timezone.localdate() - dt.timedelta(days=1))
    check_in = do_create_check_in(visit)
    assert send_due(check_in.pk, check_in.due_at + dt.timedelta(minutes=1))
    link = re.search(r"(http://\S+/portal/c/\S+/)", mail.outbox[-1].body).group(1)

    context, page = _phone(browser, 390)
    page.goto(link)
    assert page.get_by_role("heading", name=re.compile("How are you after your visit")).is_visible()
    assert_accessible_and_fits(page, "check-in form")
    page.get_by_role("radio", name="6", exact=True).check()
    page.get_by_label("About how many hours did the soreness last?").fill("30")
    page.get_by_role("radio", name="Some relief").check()
    page.get_by_role("radio", name="I did some of them").check()
    page.get_by_role("checkbox", name="Pain, swelling, warmth or redness in a calf").check()
    page.get_by_role("radio", name="Left leg").check()
    page.get_by_label(re.compile("Anything else")).fill("My left calf is swollen and warm.")
    page.get_by_role("button", name="Send my answers").click()
    assert page.get_by_role("heading", name="Please act now").is_visible()
    assert page.get_by_text(f"Call us today on {PHONE}.").is_visible()
    assert_accessible_and_fits(page, "check-in answered with a warning sign")
    page.goto(link)
    assert page.get_by_role("heading", name="This link has been used").is_visible()
    assert_accessible_and_fits(page, "a used link")
    context.close()

    context, page = _phone(browser, 390)
    sign_in(page, live_server.url, "alice", "correct horse battery")
    urgent = page.get_by_role("region", name="Urgent: warning signs reported by patients")
    assert urgent.get_by_text("Calf pain or swelling (left leg)").is_visible()
    assert urgent.get_by_text(re.compile("screen for DVT .* before any further work on that leg")).is_visible()
    urgent.get_by_role("link", name="Garcia, Maria").click()
    page.get_by_role("button", name="Start visit").first.click()
    page.wait_for_url(re.compile(r"/visits/\d+/$"))
    assert page.get_by_label("Soreness after the last visit (0-10)").input_value() == "6"
    assert page.get_by_label("How long the soreness lasted (hours)").input_value() == "30"
    subjective = page.get_by_label("Subjective: what the patient reports").input_value()
    assert subjective.startswith(f"Reported by the patient on {timezone.localdate():%Y-%m-%d}")
    assert page.locator("select[name$='-technique']").first.input_value() == "petrissage"
    assert page.locator("select[name$='-pressure']").first.input_value() == "light"  # moderate last time
    context.close()


def test_a_patient_logs_the_programme_and_fills_an_odi_and_the_therapist_sees_both(
        live_server, clinic_ready, browser):
    from palpate.clinics.actor import Actor
    from palpate.clinics.models import Membership
    from palpate.portal import services

    world = clinic_ready
    signed_plan(world)
    make_account(world.harbor_patient)
    alice = Actor.of(Membership.objects.get(clinic=world.harbor, user=world.alice))
    services.do_assign(alice, world.harbor_patient, world.harbor_episode,
                       services.Assignment("odi", timezone.localdate() + dt.timedelta(days=2), None))

    context, page = _phone(browser, 360)
    page.goto(f"{live_server.url}/portal/harbor/sign-in/")
    assert_accessible_and_fits(page, "sign-in")
    page.get_by_label("Email address").fill("maria@example.org")
    page.get_by_label("Password").fill(PATIENT_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("heading", name="Hello, Maria").is_visible()
    assert_accessible_and_fits(page, "home")

    page.get_by_role("link", name="Log today's exercises").click()
    assert_accessible_and_fits(page, "exercises")
    tilt = page.get_by_role("region", name="Pelvic tilt")
    tilt.get_by_role("radio", name="Yes, I did it").check()
    tilt.get_by_label("How many sets or rounds?").fill("2")
    tilt.get_by_label(re.compile("Pain during it")).select_option("3")
    page.get_by_role("region", name="Cat and camel").get_by_role("radio", name="No, not today").check()
    page.get_by_role("button", name="Save today's log").click()
    assert page.get_by_text("Saved for today: 1 of 2 exercises done.").is_visible()

    page.get_by_role("link", name="Home").click()
    page.get_by_role("link", name=re.compile("Fill in the Oswestry")).click()
    assert_accessible_and_fits(page, "questionnaire")
    for number, value in enumerate([2, 2, 2, 3, 2, 2, 3, 2, 2, 2], start=1):
        page.locator(f"input[name='item_{number}'][value='{value}']").check()
    page.get_by_role("button", name="Send my answers").click()
    assert page.get_by_role("heading", name="Thank you").is_visible()
    page.get_by_role("link", name="See your progress").click()
    assert page.get_by_text("Your back disability score was 44").is_visible()
    assert_accessible_and_fits(page, "progress")
    page.get_by_role("link", name="Handouts").click()
    assert_accessible_and_fits(page, "handouts")
    page.goto(f"{live_server.url}/portal/exercises/reminders/")
    assert_accessible_and_fits(page, "reminders")
    page.goto(f"{live_server.url}/portal/no-such-page/")
    assert page.get_by_role("heading", name="We could not find that page").is_visible()
    assert_accessible_and_fits(page, "not found")
    context.close()

    context, page = _phone(browser, 390)
    sign_in(page, live_server.url, "alice", "correct horse battery")
    page.goto(f"{live_server.url}/patients/{world.harbor_patient.pk}/")
    panel = page.get_by_role("region", name="Patient portal")
    assert panel.get_by_text(re.compile(r"Pelvic tilt: 1 of \d+ days, pain during up to 3/10")).is_visible()
    assert panel.get_by_text("of prescribed days").first.is_visible()
    page.goto(f"{live_server.url}/patients/{world.harbor_patient.pk}/outcomes/episodes/{world.harbor_episode.pk}/")
    assert page.locator(".badge.patient-reported").first.is_visible()
    assert page.get_by_text("Latest 44").is_visible()
    context.close()
