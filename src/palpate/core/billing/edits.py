"""Billing warnings: NCCI procedure-to-procedure pairs and payer code notes.

Palpate never changes a claim on its own: a pair that NCCI edits, or a code a payer does not
recognise, becomes a warning that says what to do and why (with the suggested modifier), and the
biller decides. Source for the pair mechanics: APTA on NCCI edits (facts.md F.3, [B]).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from palpate.core.billing.catalogue import Catalogue, Evidence, Payer, catalogue


@dataclass(frozen=True)
class BillingWarning:
    """Something a biller must look at; never a silent change."""

    kind: str
    message: str
    codes: tuple[str, ...] = ()
    modifiers: tuple[str, ...] = ()  # modifiers that would be appropriate, the suggested one first
    source: str = ""
    grade: str = ""
    status: str = ""

    @property
    def suggested_modifier(self) -> str | None:
        return self.modifiers[0] if self.modifiers else None

    @classmethod
    def cited(cls, kind: str, message: str, evidence: Evidence, codes: tuple[str, ...] = (),
              modifiers: tuple[str, ...] = ()) -> BillingWarning:
        return cls(kind=kind, message=message, codes=codes, modifiers=modifiers,
                   source=evidence.source.citation, grade=evidence.grade, status=evidence.status)

    def as_json(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "message": self.message,
            "codes": list(self.codes),
            "suggested_modifier": self.suggested_modifier,
            "modifiers": list(self.modifiers),
            "source": self.source,
            "grade": self.grade,
            "status": self.status,
        }


def ncci_warnings(codes: Iterable[str], cat: Catalogue | None = None) -> list[BillingWarning]:
    """One warning per NCCI pair whose two codes are both billed on this date of service.

    Pairs marked ``warn: false`` (doubtful claims such as 97110 + 97140) stay in the data but do not
    warn. Order: the order of the pairs in the knowledge base, so the output is deterministic.
    """
    cat = cat or catalogue()
    billed = set(codes)
    warnings = []
    for pair in cat.ncci_pairs:
        if not pair.warn or pair.column1 not in billed or pair.column2 not in billed:
            continue
        pair_text = f"NCCI pair {pair.column1} (Column 1) + {pair.column2} (Column 2) on one date of service: "
        modifiers = " or ".join(pair.modifiers)
        if pair.modifier_required:
            action = (f"{pair.column2} is paid only with modifier {modifiers} (suggested {pair.modifiers[0]}) and "
                      f"documentation that it was a distinct service; otherwise only {pair.column1} is paid.")
        elif pair.modifier_allowed:
            action = (f"only {pair.column1} is paid unless {pair.column2} carries modifier {modifiers} (suggested "
                      f"{pair.modifiers[0]}), which is right only if the services were distinct (separate 15-minute "
                      "intervals or a separate region).")
        else:
            action = f"only {pair.column1} is paid; no modifier bypasses this pair."
        message = (f"{pair_text}{action} Nothing was changed. {pair.note} "
                   f"(Evidence grade {pair.evidence.grade}, {pair.evidence.status}.)")
        warnings.append(BillingWarning.cited("ncci_pair", message, pair.evidence, (pair.column1, pair.column2),
                                             pair.modifiers if pair.modifier_allowed else ()))
    return warnings


def payer_warnings(payer: Payer, codes: Iterable[str]) -> list[BillingWarning]:
    """Codes this payer does not recognise or does not pay separately (e.g. Medicare: 97014 -> G0283)."""
    listed = list(dict.fromkeys(codes))
    warnings = []
    for code in listed:
        for note in payer.code_notes:
            if note.code != code:
                continue
            if note.kind == "use_other_code":
                message = f"{note.message} {code} was left as given; replace it with {note.replacement} on the claim."
                warnings.append(BillingWarning.cited("payer_code", message, note.evidence,
                                                     (code, note.replacement or "")))
            else:
                message = f"{note.message} {code} was left as given."
                warnings.append(BillingWarning.cited("payer_bundled", message, note.evidence, (code,)))
    return warnings
