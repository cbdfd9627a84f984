"""A form reports every error in one round: a row missing two things says both, not one at a time.

The evaluation's rows (range of motion, pain map, local findings) used to stop at the first missing
field; the clinic settings form's one-round check is in tests/web/test_clinic_settings.py.
"""

from __future__ import annotations

import pytest

from palpate.evaluations.forms import LocalFindingRowForm, PainRowForm, RomRowForm


@pytest.mark.parametrize("form_class, data, fields", [
    (RomRowForm, {"side": "left"}, {"movement", "degrees"}),
    (PainRowForm, {"quality": "sharp"}, {"region", "intensity"}),
    (LocalFindingRowForm, {"days_ago": "3"}, {"code", "region"}),
])
def test_an_evaluation_row_missing_two_things_names_both_at_once(form_class, data, fields):
    form = form_class(data=data)
    assert not form.is_valid()
    assert fields <= set(form.errors), form.errors


def test_a_blank_row_is_still_no_row_and_no_error():
    for form_class in (RomRowForm, PainRowForm, LocalFindingRowForm):
        form = form_class(data={})
        assert form.is_valid() and form.as_json() is None
