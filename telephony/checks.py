"""Django system checks for calling: what a production start-up must not miss (``manage.py check``).

All only where DEBUG is off: local development runs with derived keys, no secrets and the sandbox.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Warning, register

from .registry import providers

TAG = "telephony"


def _read(read: Any, default: Any) -> Any:
    """A provider value that may live in the database: before migrate, or without keys, it cannot be read."""
    try:
        return read()
    except Exception:  # noqa: BLE001 - a check reports; it must never stop start-up itself
        return default


@register(TAG)
def encryption_keys_check(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """Without FIELD_ENCRYPTION_KEYS in production, saved provider keys can be neither written nor read."""
    if settings.DEBUG or settings.FIELD_ENCRYPTION_KEYS:
        return []
    return [
        Error(
            "FIELD_ENCRYPTION_KEYS is not set while DEBUG is off.",
            hint='Generate one with python -c "from cryptography.fernet import Fernet; '
            'print(Fernet.generate_key().decode())" and set it in the environment.',
            id="telephony.E001",
        )
    ]


@register(TAG)
def webhook_secrets_check(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """A provider with no webhook secret refuses every webhook, so no call is ever settled."""
    if settings.DEBUG:
        return []
    return [
        Error(
            f"{backend.label} has no webhook secret while DEBUG is off: every webhook is refused.",
            hint=f"Set the {backend.name} webhook secret (settings or its configuration page).",
            id="telephony.E002",
        )
        for backend in providers()
        if not _read(backend.webhook_secrets, ["unknown"])
    ]


@register(TAG)
def provider_credentials_check(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    """A provider without credentials cannot place a call; the panel still shows it, so say so."""
    if settings.DEBUG:
        return []
    warnings = []
    for backend in providers():
        missing = _read(backend.credentials_missing, "")
        if missing:
            warnings.append(Warning(missing, hint="Calls through it are refused until it is set.", id="telephony.W001"))
    return warnings
