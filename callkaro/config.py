"""The Call Karo settings in force: a value saved on the config page wins over the environment."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from django.conf import settings

from crm import crypto
from crm.logging import register_secret

from .models import CallKaroConfig


@dataclass(frozen=True)
class EffectiveCallKaroConfig:
    api_key: str
    default_agent_id: str
    webhook_secrets: list[str] = field(default_factory=list)
    time_zone: str = "Asia/Kolkata"
    is_enabled: bool = True
    base_url: str = ""

    @property
    def is_configured(self) -> bool:
        return bool(self.api_key and self.is_enabled)


def config_row() -> CallKaroConfig | None:
    return CallKaroConfig.objects.order_by("pk").first()


def saved_webhook_secrets(row: CallKaroConfig | None) -> list[str]:
    if row is None or not row.webhook_secrets_encrypted:
        return []
    return list(json.loads(crypto.decrypt(row.webhook_secrets_encrypted)))


def get_effective_config() -> EffectiveCallKaroConfig:
    """Read fresh each time (one indexed query), so a saved change applies at once everywhere."""
    row = config_row()
    api_key = settings.CALLKARO_API_KEY
    if row is not None and row.api_key_encrypted:
        api_key = crypto.decrypt(row.api_key_encrypted)
    secrets = saved_webhook_secrets(row)
    if not secrets and settings.CALLKARO_WEBHOOK_SECRET:
        secrets = [settings.CALLKARO_WEBHOOK_SECRET]
    for value in (api_key, *secrets):
        register_secret(value)
    return EffectiveCallKaroConfig(
        api_key=api_key,
        default_agent_id=(row.default_agent_id if row and row.default_agent_id else settings.CALLKARO_DEFAULT_AGENT_ID),
        webhook_secrets=secrets,
        time_zone=(row.time_zone if row else settings.CALLKARO_TIME_ZONE) or settings.CALLKARO_TIME_ZONE,
        is_enabled=row.is_enabled if row else True,
        base_url=settings.CALLKARO_BASE_URL.rstrip("/"),
    )
