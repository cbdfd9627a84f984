"""The main screens of a patient's care, as requests a signed-in test client can replay.

One list for ``bench_pages`` (server time and queries with 100 visits) and
``tests/web/test_page_budgets.py`` (queries do not grow from 5 to 50 visits), so both measure the
same pages the same way.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

from benchmarks.history import History

FormData = dict[str, list[str]]


@dataclass(frozen=True)
class PageRequest:
    label: str
    method: str  # "get" or "post"
    url: str
    # For a POST: builds the body just before each request (a save needs the note's current version).
    data: Callable[[], FormData] | None = None
    expect: tuple[int, ...] = (200,)


class _FormReader(HTMLParser):
    """The fields of the first ``<form class="visit-note">`` as a browser would submit them (no button)."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: list[tuple[str, str]] = []
        self._in_form = False
        self._select: str | None = None
        self._select_value: str | None = None
        self._first_option: str | None = None
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and "visit-note" in a.get("class", ""):
            self._in_form = True
        if not self._in_form:
            return
        name = a.get("name", "")
        if tag == "input" and name and a.get("type") not in ("submit", "button"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.fields.append((name, a.get("value", "on" if a.get("type") == "checkbox" else "")))
        elif tag == "select" and name:
            self._select, self._select_value, self._first_option = name, None, None
        elif tag == "option" and self._select is not None:
            if self._first_option is None:
                self._first_option = a.get("value", "")
            if "selected" in a:
                self._select_value = a.get("value", "")
        elif tag == "textarea" and name:
            self._textarea, self._text = name, []

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._in_form:
            self._in_form = False
        elif tag == "select" and self._select is not None:
            value = self._select_value if self._select_value is not None else (self._first_option or "")
            self.fields.append((self._select, value))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self.fields.append((self._textarea, "".join(self._text).lstrip("\n")))
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text.append(data)


def read_note_form(html: str) -> FormData:
    reader = _FormReader()
    reader.feed(html)
    data: FormData = {}
    for name, value in reader.fields:
        data.setdefault(name, []).append(value)
    return data


def visit_id_from(location: str) -> int:
    match = re.search(r"/visits/(\d+)/$", location)
    if match is None:
        raise ValueError(f"not a visit note address: {location}")
    return int(match.group(1))


def main_pages(client: Any, history: History, draft_id: int) -> list[PageRequest]:
    """The screens a therapist opens for this patient, in the order of a day's work.

    ``draft_id`` is today's draft note (started with "Start visit", carried forward from the last
    signed visit): its page, the live re-screen and "Save draft" are timed on it.
    """
    from palpate.visits.models import Visit

    p, e = history.patient.pk, history.episode.pk
    signed = history.last_visit.pk
    draft_url = f"/patients/{p}/visits/{draft_id}/"
    typed: FormData = {}

    def note_form() -> FormData:
        if not typed:
            typed.update(read_note_form(client.get(draft_url).content.decode()))
            typed["subjective"] = ["Grip easier; sore for a day after the last visit."]
        return typed

    def save_form() -> FormData:
        version = Visit.objects.values_list("version", flat=True).get(pk=draft_id)
        return {**note_form(), "version": [str(version)], "save": ["1"]}

    return [
        PageRequest("Today page", "get", "/"),
        PageRequest("patient chart", "get", f"/patients/{p}/"),
        PageRequest("evaluation detail", "get", f"/patients/{p}/evaluations/{history.evaluation.pk}/"),
        PageRequest("plan of care detail", "get", f"/patients/{p}/plans/{history.plan.pk}/"),
        PageRequest("visit list", "get", f"/patients/{p}/visits/"),
        PageRequest("signed visit note", "get", f"/patients/{p}/visits/{signed}/"),
        PageRequest("start visit page", "get", f"/patients/{p}/visits/start/{e}/"),
        PageRequest("new draft note (carried forward)", "get", draft_url),
        PageRequest("live re-screen of the note (htmx)", "post", f"{draft_url}live/", note_form),
        PageRequest("save draft note", "post", draft_url, save_form, expect=(302,)),
        PageRequest("outcomes page", "get", f"/patients/{p}/outcomes/episodes/{e}/"),
        PageRequest("visit note PDF", "get", f"/patients/{p}/visits/{signed}/note.pdf"),
    ]


def start_draft(client: Any, history: History) -> int:
    """Press "Start visit" for the history's episode; the id of today's draft note."""
    response = client.post(f"/patients/{history.patient.pk}/visits/start/{history.episode.pk}/")
    if response.status_code != 302:
        raise RuntimeError(f"Start visit answered {response.status_code}")
    return visit_id_from(response["Location"])


def prepare(page: PageRequest) -> FormData | None:
    """The body of a POST, built before the request is timed or its queries counted."""
    return page.data() if page.data else None


def send(client: Any, page: PageRequest, body: FormData | None) -> Any:
    """Replay one page request; raises if the answer is not the expected status."""
    if page.method == "get":
        response = client.get(page.url)
    else:
        response = client.post(page.url, body or {})
    if response.status_code not in page.expect:
        raise RuntimeError(f"{page.label}: {page.method.upper()} {page.url} answered {response.status_code}")
    return response
