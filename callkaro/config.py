"""The Call Karo settings in force: a value saved on the config page wins over the environment."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.core.signals import setting_changed
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

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
    #: Lead fields sent as metadata (``callkaro.metadata.LEAD_FIELDS`` keys); None means the defaults.
    metadata_fields: list[str] | None = None
    #: "v1" (``POST /call/campaign`` with one agent) or "v2" (``POST /v2/call/campaign``, name only).
    campaign_api_version: str = "v1"

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
        metadata_fields=row.metadata_fields if row is not None else None,
        campaign_api_version=(row.campaign_api_version if row and row.campaign_api_version else "")
        or settings.CALLKARO_CAMPAIGN_API_VERSION,
    )


_cached: tuple[float, EffectiveCallKaroConfig] | None = None


def get_effective_config_cached() -> EffectiveCallKaroConfig:
    """The effective config, reused for a few seconds in this process: the webhook's hot path.

    Each webhook needs the secrets and the time zone; reading and decrypting the row per request was
    a fifth of its cost. A save in this process clears the copy at once (``config_cache_clear``); other
    processes see a change within ``CALLKARO_CONFIG_CACHE_SECONDS`` (default 5). Everything else keeps
    reading fresh through ``get_effective_config``.
    """
    global _cached
    ttl = settings.CALLKARO_CONFIG_CACHE_SECONDS
    now = time.monotonic()
    cached = _cached
    if cached is not None and now - cached[0] < ttl:
        return cached[1]
    config = get_effective_config()
    if ttl > 0:
        _cached = (now, config)
    return config


def config_cache_clear(**_: object) -> None:
    """Forget the cached config (after a save, or when a CALLKARO_* setting changes in a test)."""
    global _cached
    _cached = None


@receiver(setting_changed)
def _on_setting_changed(*, setting: str, **_: object) -> None:
    if setting.startswith("CALLKARO_") or setting == "FIELD_ENCRYPTION_KEYS":
        config_cache_clear()


def _on_config_saved(**_: object) -> None:
    """Every write to the row goes through ``save()`` in ``callkaro.services``: clear now and after commit."""
    config_cache_clear()
    transaction.on_commit(config_cache_clear)


post_save.connect(_on_config_saved, sender=CallKaroConfig, dispatch_uid="callkaro-config-cache-save")
post_delete.connect(_on_config_saved, sender=CallKaroConfig, dispatch_uid="callkaro-config-cache-delete")
