"""Key existing chains: append one keyed ``audit.rekeyed`` event to every chain written before keying.

Nothing already written is rewritten (that would be the quiet rewrite the trail exists to prevent).
The new event's HMAC covers the hash of the last plain SHA-256 event, so the unkeyed prefix is
sealed: changing any earlier event, even recomputing every plain hash after it, breaks the link
into this keyed event, which nobody without the audit key can recompute. ``verify`` accepts plain
links only before a chain's first keyed event.
"""

from django.db import migrations
from django.utils import timezone


def seal(apps, schema_editor):
    from palpate.audit.chain import event_digest
    from palpate.audit.keys import audit_key

    AuditChainHead = apps.get_model("audit", "AuditChainHead")
    AuditEvent = apps.get_model("audit", "AuditEvent")
    heads = list(AuditChainHead.objects.filter(seq__gt=0).order_by("clinic_id"))
    if not heads:
        return
    key = audit_key()
    for head in heads:
        fields = {
            "clinic_id": head.clinic_id, "seq": head.seq + 1, "created_at": timezone.now(), "actor_id": None,
            "actor_name": "system", "patient_id": None, "action": "audit.rekeyed", "object_type": "",
            "object_id": "", "old": None, "new": {"sealed_through": head.seq, "scheme": "hmac-sha256"},
            "ip_address": None, "prev_hash": head.last_hash,
        }
        digest = event_digest(key=key, **fields)
        AuditEvent.objects.create(hash=digest, **fields)
        AuditChainHead.objects.filter(clinic_id=head.clinic_id).update(seq=head.seq + 1, last_hash=digest)


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_staged_reads")]

    operations = [migrations.RunPython(seal, migrations.RunPython.noop)]
