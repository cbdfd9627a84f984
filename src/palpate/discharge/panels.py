"""The discharge panel of each episode on the patient's chart (``patients.chart``)."""

from __future__ import annotations

from typing import Any

from palpate.discharge.models import Discharge
from palpate.lib.models_common import RecordStatus


def episode_panel(context: Any, episode: Any) -> dict[str, Any] | None:
    can = context.get("can") or {}
    if not can.get("patient_view"):
        return None
    latest = None
    if episode.status == "discharged":  # one query, for discharged episodes only
        latest = (Discharge.objects.filter(clinic_id=episode.clinic_id, episode=episode, status=RecordStatus.SIGNED)
                  .only("id", "clinic_id", "episode_id", "patient_id", "status", "discharged_on")
                  .order_by("-signed_at", "-id").first())
    return {"episode": episode, "discharge": latest, "can": can}
