"""The one "Add addendum" page every signed record uses (evaluation, plan of care, discharge summary).

A signed record is locked; a correction is a signed addendum. The apps differ only in their service
(``do_add(text)``, which raises ``ValueError`` with words for a person), where the page goes back
to, and the read they audit (``on_view``: ``lib`` sits below the audit trail, so the app passes it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render


def addendum_page(request: HttpRequest, patient: Any, record: Any, *, label: str, back_url: str,
                  do_add: Callable[[str], Any], on_view: Callable[[], Any], can_sign: bool) -> HttpResponse:
    """The addendum form (GET), or add one (POST: redirect back on success, the form with what was
    typed and the problem, 400, when the service refuses it)."""
    error, text = "", ""
    if request.method == "POST":
        text = request.POST.get("text", "")
        try:
            do_add(text)
        except ValueError as problem:
            error = str(problem)
        else:
            messages.success(request, f"Addendum signed and added to the {label[0].lower()}{label[1:]}.")
            return redirect(back_url)
    else:
        on_view()
    return render(request, "lib/addendum.html", {
        "patient": patient, "record": record, "back_url": back_url, "record_label": label,
        "addenda": list(record.addenda.select_related("signed_by")), "error": error, "text": text,
        "can_sign": can_sign,
    }, status=400 if error else 200)
