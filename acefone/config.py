"""The Acefone settings in force: a token or maximum call length saved on the config page wins over the environment."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from crm import crypto
from crm.logging import register_secret

from .models import AcefoneConfig

#: Acefone's ``call_timeout`` disconnects the call: anything shorter would cut real conversations.
MIN_CALL_SECONDS = 60
MAX_CALL_SECONDS = 4 * 3600


@dataclass(frozen=True)
class EffectiveAcefoneConfig:
    api_token: str
    token_source: str  # "saved", "environment" or ""
    max_call_seconds: int | None
    base_url: str
    caller_id: str
    time_zone: str


def config_row() -> AcefoneConfig | None:
    return AcefoneConfig.objects.order_by("pk").first()


def get_effective_config() -> EffectiveAcefoneConfig:
    """Read fresh each time (one indexed query), so a save applies at once everywhere."""
    row = config_row()
    token, source = settings.ACEFONE_API_TOKEN, "environment" if settings.ACEFONE_API_TOKEN else ""
    if row is not None and row.api_token_encrypted:
        token, source = crypto.decrypt(row.api_token_encrypted), "saved"
    register_secret(token)
    max_seconds = row.max_call_seconds if row is not None and row.max_call_seconds else None
    return EffectiveAcefoneConfig(
        api_token=token,
        token_source=source,
        max_call_seconds=max_seconds or settings.ACEFONE_MAX_CALL_SECONDS,
        base_url=settings.ACEFONE_BASE_URL,
        caller_id=settings.ACEFONE_CALLER_ID,
        time_zone=settings.ACEFONE_TIME_ZONE,
    )
