"""Deployment checks for sign-in behind a reverse proxy (``palpate check --deploy``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def client_address_behind_the_proxy(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    """With PALPATE_HTTPS, Palpate sits behind a TLS proxy: every connection comes from the proxy."""
    if not settings.HTTPS or settings.PALPATE_CLIENT_IP_HEADER:
        return []
    return [Warning(
        "Behind a reverse proxy every request seems to come from the proxy's address: the audit trail cannot "
        "tell clients apart, and the per-address sign-in lockout would lock everyone out at once.",
        hint="Set PALPATE_CLIENT_IP_HEADER to the header your proxy writes the client's address to "
             "(X-Forwarded-For for Caddy and the nginx setup in docs/deploy.md).", id="palpate.W020")]


@register(Tags.security, deploy=True)
def links_in_emails_use_https(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    if not settings.HTTPS or settings.PALPATE_BASE_URL.startswith("https://"):
        return []
    return [Warning(
        f"Invitation and password-reset emails link to {settings.PALPATE_BASE_URL}, not the HTTPS address.",
        hint="Set PALPATE_BASE_URL to the address staff reach Palpate at, e.g. https://palpate.example.org.",
        id="palpate.W021")]
