"""Entered in error: a record voided with a reason stays in the database and the audit trail,
and out of every list, chart, count, bill, export and API answer.

A voidable model's default manager (``objects``, the first declared, so also every reverse
relation such as ``patient.visits``) hides voided rows: nobody can forget to leave them out.
``all_with_voided`` is for the few readers that must see them (the record's own page, which says
it was voided; the audit trail). Only unsigned drafts, outcome entries and appointments are
voided; a signed record is corrected with a signed addendum instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from palpate.core.errors import InputError
from palpate.core.safety import OVERRIDE_REASON_MIN_CHARS

# The same bar as an override's reason: enough words that a colleague reading the trail knows why.
VOID_REASON_MIN_CHARS = OVERRIDE_REASON_MIN_CHARS


class CurrentQuerySet(models.QuerySet[Any]):
    def current(self) -> CurrentQuerySet:
        return self.filter(voided_at__isnull=True)


class CurrentManager(models.Manager[Any]):
    """The default manager of a voidable model: only the rows that were not entered in error."""

    def get_queryset(self) -> CurrentQuerySet:
        return CurrentQuerySet(self.model, using=self._db).current()


class PartsOfCurrentManager(models.Manager[Any]):
    """The default manager of a voidable record's parts (a visit's treatment rows): only the parts
    of records not entered in error, so a query on the parts alone (the FHIR Procedures) leaves
    them out too. A subclass names the foreign key to the voidable record in ``parent`` (a class
    attribute: Django builds related managers by subclassing, without arguments)."""

    parent = ""

    def get_queryset(self) -> models.QuerySet[Any]:
        return super().get_queryset().filter(**{f"{self.parent}__voided_at__isnull": True})


class Voidable(models.Model):
    voided_at = models.DateTimeField(null=True, blank=True)
    voided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    # Nullable without a default so that adding the columns is a plain ALTER TABLE on SQLite: a
    # default would make Django rebuild the table, dropping the appointments' no-double-booking triggers.
    void_reason = models.CharField(max_length=500, null=True, blank=True)  # noqa: DJ001

    objects = CurrentManager()
    all_with_voided = models.Manager()  # noqa: DJ012 (a manager, which ruff takes for a field)

    class Meta:
        abstract = True

    @property
    def is_voided(self) -> bool:
        return self.voided_at is not None


class SignedNotVoidable(PermissionDenied):
    pass


def check_void_reason(reason: str | None) -> str:
    """The reason, stripped; InputError (field ``reason``) when it is too short to tell anyone why."""
    text = (reason or "").strip()
    if len(text) < VOID_REASON_MIN_CHARS:
        raise InputError("reason_too_short",
                         f"Say why this was entered in error in at least {VOID_REASON_MIN_CHARS} characters; "
                         "the reason is kept with the record and in the audit trail.", "reason")
    if len(text) > 500:
        raise InputError("reason_too_long", "Keep the reason under 500 characters.", "reason")
    return text


def check_voidable(record: Any) -> None:
    """Refuse a signed record (it takes an addendum) and one already voided."""
    if getattr(record, "is_signed", False):
        raise SignedNotVoidable("This record is signed, and a signed record is never voided: "
                                "add a signed addendum that corrects it instead.")
    if record.is_voided:
        raise SignedNotVoidable("This record was already marked entered in error.")


def mark_voided(record: Voidable, user: Any, reason: str) -> list[str]:
    """Set the void fields (the caller saves with the returned ``update_fields`` and audits)."""
    record.voided_at = timezone.now()
    record.voided_by = user
    record.void_reason = reason
    return ["voided_at", "voided_by", "void_reason"]


def voidable_of_patient(model: type[Voidable], patient: Any, pk: object) -> Any:
    """The patient's record of ``model`` for its void page, voided or not (the page still says what
    was voided, when and why); anything else, another patient's or clinic's included, is a 404."""
    try:
        return model.all_with_voided.select_related("voided_by").get(  # type: ignore[attr-defined]
            clinic_id=patient.clinic_id, patient=patient, pk=int(str(pk)))
    except (model.DoesNotExist, ValueError):  # type: ignore[attr-defined]
        raise Http404("No such record") from None


def void_page(request: HttpRequest, record: Voidable, *, what: str, crumbs: list[tuple[str, str]],
              done_url: str, do_void: Callable[[str], Any],
              refusals: tuple[type[Exception], ...] = ()) -> HttpResponse:
    """The one "Entered in error" page every voidable record uses: the reason form, or what was voided.

    ``do_void(reason)`` is the app's service; it raises ``InputError`` (a reason too short, kept on
    the form with what was typed), ``SignedNotVoidable`` (signed: the page says to add an addendum)
    or ``PermissionDenied``; ``refusals`` are the app's own refusals, shown as they are (409). On success the browser is redirected (post/redirect/get).
    """
    error, status, reason = "", 200, ""
    if request.method == "POST" and not record.is_voided:
        reason = request.POST.get("reason", "")
        try:
            do_void(reason)
        except InputError as problem:
            error, status = problem.message, 400
        except SignedNotVoidable as refused:
            error, status = str(refused), 409
        except refusals as refused:  # an app's own refusal (an appointment with a note on it)
            error, status = getattr(refused, "message", str(refused)), 409
        else:
            messages.success(request, f"Marked {what} as entered in error. It stays in the audit trail.")
            return redirect(done_url)
    signed = bool(getattr(record, "is_signed", False))
    return render(request, "lib/void.html", {
        "record": record, "what": what, "crumbs": crumbs, "error": error, "reason": reason, "signed": signed,
        "min_chars": VOID_REASON_MIN_CHARS, "voided_by": record.voided_by if record.is_voided else None,
    }, status=status)

