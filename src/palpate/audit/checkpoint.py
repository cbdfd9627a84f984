"""Signed checkpoints: a clinic's chain head as a document an owner can keep or send elsewhere.

A checkpoint names each clinic's last event (seq and hash) and is signed with Ed25519. The
signing key is derived from the audit key (HKDF), so there is no second secret to keep; the
public key travels in the document, and its fingerprint is the same for every checkpoint of
this installation. ``palpate audit verify --checkpoint FILE`` later proves that the trail still
contains exactly what the checkpoint saw: an older database, or a rewritten chain, fails it.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from palpate.audit.chain import canonical
from palpate.audit.keys import audit_key

FORMAT = "palpate-audit-checkpoint/1"


class CheckpointError(ValueError):
    """The document is not a checkpoint this installation can check (bad input)."""


def _signing_key() -> Ed25519PrivateKey:
    seed = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"palpate", info=b"audit checkpoint signing").derive(audit_key())
    return Ed25519PrivateKey.from_private_bytes(seed)


def public_key_b64() -> str:
    raw = _signing_key().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def fingerprint(public_b64: str) -> str:
    return hashlib.sha256(base64.b64decode(public_b64)).hexdigest()[:16]


def make_checkpoint(clinic_ids: list[int] | None = None) -> dict[str, Any]:
    from palpate.audit.anchor import current_heads
    from palpate.audit.models import AuditChainHead

    heads = current_heads()
    wanted = sorted(heads) if clinic_ids is None else [c for c in clinic_ids if c in heads]
    # Through the chain head's own link to its clinic: the trail sits below the clinics app.
    slugs = dict(AuditChainHead.objects.filter(clinic_id__in=wanted).values_list("clinic_id", "clinic__slug"))
    body = {
        "format": FORMAT,
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "clinics": [{"clinic": c, "slug": slugs.get(c, ""), "seq": heads[c][0], "hash": heads[c][1]} for c in wanted],
        "public_key": public_key_b64(),
    }
    body["signature"] = base64.b64encode(_signing_key().sign(canonical(body))).decode("ascii")
    return body


def check_checkpoint(document: Any) -> list[str]:
    """Problems found comparing a checkpoint with the trail now (an empty list: it holds)."""
    from palpate.audit.models import AuditChainHead, AuditEvent

    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise CheckpointError(f"not a Palpate audit checkpoint (expected format {FORMAT!r})")
    try:
        body = {k: v for k, v in document.items() if k != "signature"}
        signature = base64.b64decode(document["signature"], validate=True)
        public = Ed25519PublicKey.from_public_bytes(base64.b64decode(document["public_key"], validate=True))
        clinics = [(int(c["clinic"]), int(c["seq"]), str(c["hash"])) for c in document["clinics"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"the checkpoint is incomplete or malformed: {exc}") from exc
    try:
        public.verify(signature, canonical(body))
    except InvalidSignature:
        return ["the checkpoint's signature does not hold: it was changed after it was signed"]
    problems = []
    if document["public_key"] != public_key_b64():
        problems.append(f"the checkpoint was signed by another audit key (fingerprint {fingerprint(document['public_key'])}, "
                        f"this installation's is {fingerprint(public_key_b64())})")
    for clinic_id, seq, digest in clinics:
        head = AuditChainHead.objects.filter(clinic_id=clinic_id).values_list("seq", flat=True).first() or 0
        if head < seq:
            problems.append(f"clinic {clinic_id}: the trail ends at event {head} but the checkpoint saw {seq} "
                            "(events removed, or an older database restored)")
            continue
        stored = AuditEvent.objects.filter(clinic_id=clinic_id, seq=seq).values_list("hash", flat=True).first()
        if stored != digest:
            problems.append(f"clinic {clinic_id}: event {seq} is not the one in the checkpoint (the chain was rewritten)")
    return problems
