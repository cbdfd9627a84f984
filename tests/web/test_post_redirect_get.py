"""Post/redirect/get: a form that saved answers with a redirect, so a reload never posts it again.

The crawl opens every staff page (each patient page of the access matrices and the clinic's own
pages) as the owner, who may use every form, and submits each of the page's full-page forms as a
browser would without typing anything: edit forms come back filled in, so they save as they are.
A POST that wrote something (an audit event: every write records one, a read never does) must
answer 302/303. Fragments for htmx (``hx-post``) are exempt: they are not full-page posts. So are
the two pages that show a secret exactly once after the POST (new recovery codes, a new API token):
redirecting would have to store the secret to show it again.
"""

from __future__ import annotations

import datetime as dt
from html.parser import HTMLParser
from urllib.parse import urljoin

import pytest
from django.db.models.signals import post_save
from django.utils import timezone

from palpate.audit.models import AuditEvent
from tests.web.test_access import PATIENT_URLS

pytestmark = pytest.mark.django_db

# Secrets shown once after the POST that made them; and posts that end the test client's session.
SHOWS_A_SECRET_ONCE = ("/accounts/recovery-codes/", "/interop/tokens/")
ENDS_THE_SESSION = ("/accounts/logout/", "/accounts/sessions/", "/clinics/switch/")


class _Forms(HTMLParser):
    """Every full-page POST form of a page: (action, fields as a browser submits them untouched)."""

    def __init__(self) -> None:
        super().__init__()
        # (action, fields, the named submit buttons: each submits its own name and value)
        self.forms: list[tuple[str, list[tuple[str, str]], list[tuple[str, str]]]] = []
        self.current: list[tuple[str, str]] | None = None
        self.buttons: list[tuple[str, str]] = []
        self.select: tuple[str, str | None, str | None] | None = None
        self.textarea: str | None = None
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v or "") for k, v in attrs}
        if tag == "form":
            full_page = a.get("method", "").lower() == "post" and not any(k.startswith("hx-") for k in a)
            self.current = [] if full_page else None
            self.buttons = []
            if full_page:
                self.forms.append((a.get("action", ""), self.current, self.buttons))
            return
        if self.current is None:
            return
        if tag in ("button", "input") and a.get("type", "submit" if tag == "button" else "text") == "submit":
            if a.get("name"):
                self.buttons.append((a["name"], a.get("value", "")))
            return
        if tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.current.append((a["name"], a.get("value", "on")))
            elif kind not in ("submit", "button", "file"):
                self.current.append((a["name"], a.get("value", "")))
        elif tag == "select":
            self.select = (a.get("name", ""), None, None)
        elif tag == "option" and self.select:
            name, chosen, first = self.select
            value = a.get("value", "")
            self.select = (name, value if "selected" in a else chosen, first if first is not None else value)
        elif tag == "textarea":
            self.textarea, self.text = a.get("name"), ""

    def handle_data(self, data: str) -> None:
        if self.textarea is not None:
            self.text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.current = None
        elif tag == "select" and self.select and self.current is not None:
            name, chosen, first = self.select
            self.current.append((name, chosen if chosen is not None else first or ""))
            self.select = None
        elif tag == "textarea" and self.textarea is not None and self.current is not None:
            self.current.append((self.textarea, self.text.removeprefix("\n")))
            self.textarea = None


def _staff_pages(ids: dict[str, int], appointment: int, member: int) -> list[str]:
    patient_pages = [path.format(**ids) for path, _ in PATIENT_URLS.values() if not path.endswith(".pdf")]
    return [
        "/", "/accounts/", "/accounts/password/", "/clinics/settings/", "/clinics/portal/", "/clinics/staff/",
        "/clinics/staff/invite/", f"/clinics/staff/{member}/", "/schedule/settings/", "/schedule/book/",
        f"/schedule/appointments/{appointment}/", f"/schedule/appointments/{appointment}/move/",
        f"/schedule/appointments/{appointment}/cancel/", "/audit/", *patient_pages,
    ]


def test_every_staff_form_that_saves_answers_with_a_redirect(clinical_world, as_user):
    from palpate.scheduling.models import Appointment

    w = clinical_world.world
    start = timezone.now() + dt.timedelta(days=2)
    appointment = Appointment.objects.create(clinic=w.harbor, patient=w.harbor_patient, episode=w.harbor_episode,
                                             therapist=w.alice, booked_by=w.fran, starts_at=start,
                                             ends_at=start + dt.timedelta(minutes=45))
    client = as_user(w.olivia)
    writes: list[str] = []

    def wrote(sender: type, instance: AuditEvent, created: bool, **kwargs: object) -> None:
        if created:
            writes.append(instance.action)

    posted, renders_after_a_write = 0, []
    post_save.connect(wrote, sender=AuditEvent, weak=False)
    try:
        for page in _staff_pages(clinical_world.ids(), appointment.pk, w.olivia.memberships.get().pk):
            response = client.get(page)
            if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
                continue
            reader = _Forms()
            reader.feed(response.content.decode())
            for action, fields, buttons in reader.forms:
                target = urljoin(page, action) if action else page
                if target.startswith(SHOWS_A_SECRET_ONCE + ENDS_THE_SESSION):
                    continue
                for button in buttons or [None]:
                    data: dict[str, list[str]] = {}
                    for name, value in [*fields, *([button] if button else [])]:
                        data.setdefault(name, []).append(value)
                    writes.clear()
                    answer = client.post(target, data)
                    posted += 1
                    if answer.status_code == 200 and writes:
                        renders_after_a_write.append(
                            f"{target} {button or ''} (from {page}) wrote {sorted(set(writes))} and answered 200")
    finally:
        post_save.disconnect(wrote, sender=AuditEvent)
    assert posted >= 20, f"the crawl posted only {posted} forms: the page walk is broken"
    assert renders_after_a_write == []


def test_a_note_saved_without_its_refused_rows_redirects_and_the_next_page_keeps_them(world, as_user):
    """Saved in part (the rows a new contraindication refuses): a reload must not post the old
    version again, so the save redirects and the page it leads to shows the rows as typed."""
    from tests.web.test_visits import _wound_over_the_planned_row, note_url, set_row

    client = as_user(world.alice)
    visit, data = _wound_over_the_planned_row(client, world)
    set_row(data, "t", 0, minutes=9)
    response = client.post(note_url(visit), data)
    assert response.status_code == 302 and response["Location"] == note_url(visit)
    page = client.get(response["Location"]).content.decode()
    assert "NOT the treatment rows" in page and 'value="9"' in page  # what was typed, with the reason
    assert "Petrissage at the lower back, moderate pressure: not allowed" in page
    again = client.get(note_url(visit)).content.decode()  # shown once: a later visit shows the stored note
    assert "NOT the treatment rows" not in again
