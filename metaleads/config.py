"""The Meta settings in force: a value saved on the config page wins over the environment."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings

from crm import crypto
from crm.logging import register_secret

from .models import MetaLeadsConfig

#: (field prefix, setting) of each secret kept encrypted on the row.
SECRETS = (
    ("app_secret", "META_APP_SECRET"),
    ("verify_token", "META_VERIFY_TOKEN"),
    ("page_access_token", "META_PAGE_ACCESS_TOKEN"),
)


@dataclass(frozen=True)
class EffectiveMetaConfig:
    app_secret: str
    verify_token: str
    page_access_token: str
    graph_base_url: str
    backfill_interval: int
    speed_to_lead_agent_id: str
    metadata_answer_keys: list[str] = field(default_factory=list)

    @property
    def speed_to_lead_on(self) -> bool:
        return bool(self.speed_to_lead_agent_id)


def config_row() -> MetaLeadsConfig | None:
    return MetaLeadsConfig.objects.order_by("pk").first()


def config_row_for_update() -> MetaLeadsConfig:
    """The one row, locked; made on first use (``get_or_create`` on a fixed key, so never twice)."""
    row = config_row()
    if row is None:
        row, _ = MetaLeadsConfig.objects.get_or_create(pk=1)
    return MetaLeadsConfig.objects.select_for_update().get(pk=row.pk)


def _secret(row: MetaLeadsConfig | None, prefix: str, setting: str) -> str:
    encrypted = getattr(row, f"{prefix}_encrypted", "") if row is not None else ""
    return crypto.decrypt(encrypted) if encrypted else getattr(settings, setting)


def get_effective_config() -> EffectiveMetaConfig:
    """Read fresh each time (one indexed query), so a saved change applies at once everywhere."""
    row = config_row()
    secrets = {prefix: _secret(row, prefix, setting) for prefix, setting in SECRETS}
    for value in secrets.values():
        register_secret(value)
    agent = settings.SPEED_TO_LEAD_AGENT_ID
    if row is not None and row.speed_to_lead_agent_id is not None:
        agent = row.speed_to_lead_agent_id
    return EffectiveMetaConfig(
        **secrets,
        graph_base_url=((row.graph_base_url if row else "") or settings.META_GRAPH_BASE_URL).rstrip("/"),
        backfill_interval=(row.backfill_interval if row and row.backfill_interval else settings.META_BACKFILL_INTERVAL),
        speed_to_lead_agent_id=agent.strip(),
        metadata_answer_keys=list(row.metadata_answer_keys) if row else [],
    )
