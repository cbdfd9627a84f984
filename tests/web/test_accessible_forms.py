"""What axe-core cannot see on the staff forms (issue 12 item 9), checked in the rendered HTML.

Help and error text are tied to their fields (every id an ``aria-describedby`` names is on the
page); a failed save answers with an error summary that links every error to its field; rows
added to the visit note are numbered in their names; a search longer than the limit says so.
The browser side (focus, the sticky bar, widths) is tests/e2e/test_accessibility.py.
"""

from __future__ import annotations

import re

from palpate.patients.search import SEARCH_MAX_LENGTH


def _described_ids(html: str) -> set[str]:
    return {i for value in re.findall(r'aria-describedby="([^"]*)"', html) for i in value.split()}


def _ids(html: str) -> set[str]:
    return set(re.findall(r'\sid="([^"]+)"', html))


def test_it_renders_every_id_that_a_fields_aria_describedby_points_at(world, as_user):
    client = as_user(world.alice)
    page = client.get("/patients/new/").content.decode()
    described = _described_ids(page)
    assert "id_record_number_helptext" in described, "the help text of the record number is not tied to it"
    assert described <= _ids(page), f"aria-describedby names ids the page lacks: {sorted(described - _ids(page))}"

    failed = client.post("/patients/new/", {"given_name": "", "family_name": "Okafor"}).content.decode()
    described = _described_ids(failed)
    assert "id_given_name_error" in described and "id_date_of_birth_error" in described
    assert described <= _ids(failed), f"aria-describedby names ids the page lacks: {sorted(described - _ids(failed))}"
    assert 'id="id_given_name_error"' in failed and 'aria-invalid="true"' in failed


def test_a_failed_save_answers_with_a_focusable_summary_linking_every_error_to_its_field(world, as_user):
    page = as_user(world.alice).post("/patients/new/", {"given_name": "", "family_name": "Okafor"}).content.decode()
    summary = re.search(r'<div class="error-summary"[^>]*>(.*?)</div>', page, re.S)
    assert summary, "no error summary after a failed save"
    assert 'tabindex="-1"' in summary.group(0) and "data-error-summary" in summary.group(0)
    links = re.findall(r'<li><a href="#([^"]+)">([^<]+)</a></li>', summary.group(1))
    targets = {anchor for anchor, _ in links}
    assert {"id_given_name", "id_date_of_birth", "id_sex"} <= targets, links
    assert targets <= _ids(page), "a summary link points at no field"
    # A real list: every item inside a ul (axe-core's "listitem" rule), not bare li elements.
    assert re.search(r"<ul class=\"errorlist\">\s*<li>", summary.group(1))


def test_a_failed_visit_note_save_lists_the_rows_errors_with_links(clinical_world, as_user):
    ids = clinical_world.ids()
    client = as_user(clinical_world.world.alice)
    url = f"/patients/{ids['p']}/visits/{ids['v']}/"
    page = client.get(url).content.decode()
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    prefix = re.search(r'name="(t-[^"]+)-technique"', page).group(1)
    posted = client.post(url, {"version": version, "save": "1", f"{prefix}-technique": "effleurage",
                               f"{prefix}-region": "lower_back", f"{prefix}-pressure": "light",
                               f"{prefix}-minutes": "-5", "nprs_before": "6"}).content.decode()
    summary = re.search(r'<div class="error-summary"[^>]*>(.*?)</div>', posted, re.S)
    assert summary, "no error summary after a refused row"
    links = re.findall(r'<a href="#([^"]+)">([^<]+)</a>', summary.group(1))
    assert any(anchor == f"id_{prefix}-minutes" and text.startswith("Treatment row 1, minutes")
               for anchor, text in links), links


def test_rows_added_to_the_visit_note_get_a_number_of_their_own_in_their_names(clinical_world, as_user):
    ids = clinical_world.ids()
    client = as_user(clinical_world.world.alice)
    third = client.get(f"/patients/{ids['p']}/visits/{ids['v']}/row/?kind=t&n=3").content.decode()
    fourth = client.get(f"/patients/{ids['p']}/visits/{ids['v']}/row/?kind=t&n=4").content.decode()
    assert re.search(r">\s*Technique, treatment row 3\s*<", third), third[:600]
    assert re.search(r">\s*Technique, treatment row 4\s*<", fourth)
    for nonsense in ("x", "²", "9" * 5000, "-1"):
        response = client.get(f"/patients/{ids['p']}/visits/{ids['v']}/row/", {"kind": "t", "n": nonsense})
        assert response.status_code == 200, nonsense
        assert re.search(r">\s*Technique, treatment row\s*<", response.content.decode()), nonsense


def test_the_search_box_says_its_limit_and_keeps_to_it(world, as_user):
    page = as_user(world.alice).get("/patients/").content.decode()
    assert f'maxlength="{SEARCH_MAX_LENGTH}"' in page
    assert f"At most {SEARCH_MAX_LENGTH} characters." in page


def test_a_search_longer_than_the_limit_says_so_instead_of_searching(world, as_user):
    query = "Garcia " * 600  # 4,200 characters: what once ended as a bare 414 from the server
    response = as_user(world.alice).get("/patients/", {"q": query})
    assert response.status_code == 200
    body = response.content.decode()
    assert f"Search for at most {SEARCH_MAX_LENGTH} characters: this search has {len(query.strip())}." in body
    assert f"/patients/{world.harbor_patient.pk}/" not in body, "a search that is too long still ran"
    at_the_limit = as_user(world.alice).get("/patients/", {"q": "garcia".ljust(SEARCH_MAX_LENGTH, " ") + "x"})
    assert "Search for at most" in at_the_limit.content.decode()
    assert "Garcia, Maria" in as_user(world.alice).get("/patients/", {"q": "garcia"}).content.decode()
