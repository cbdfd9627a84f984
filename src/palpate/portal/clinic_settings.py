"""A clinic's patient-side settings, with the defaults when the clinic has not saved any."""

from __future__ import annotations

from typing import Any

from palpate.portal.models import PortalSettings


def settings_for(clinic: Any) -> PortalSettings:
    """The clinic's settings, or an unsaved row with the defaults (one query)."""
    found = PortalSettings.objects.filter(clinic_id=clinic.pk).first()
    return found if found is not None else PortalSettings(clinic_id=clinic.pk)
