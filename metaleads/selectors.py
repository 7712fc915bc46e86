"""Reads for the Meta lead-ads pages. Secrets leave here only as masks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import Count, QuerySet

from crm import crypto
from crm.models import Role, TeamMember

from .config import SECRETS, config_row, get_effective_config
from .models import MetaForm, MetaLeadDelivery, MetaWebhookRejection


@dataclass(frozen=True)
class ConfigSummary:
    masks: dict[str, str]  # prefix -> "••••abcd", "" when unset
    from_page: dict[str, bool]  # prefix -> saved on the page (else the environment's)
    graph_base_url: str
    backfill_interval: int
    speed_to_lead_agent_id: str
    metadata_answer_keys: list[str]
    last_error: str
    last_error_at: datetime | None
    webhook_url: str
    sandbox: bool

    @property
    def secret_rows(self) -> list[tuple[str, str, str]]:
        """(label, mask, where it comes from) for the page."""
        labels = {"app_secret": "App secret", "verify_token": "Verify token", "page_access_token": "Page token"}
        return [
            (labels[p], mask, "saved here" if self.from_page[p] else "environment") for p, mask in self.masks.items()
        ]


def config_summary() -> ConfigSummary:
    row = config_row()
    config = get_effective_config()
    masks, from_page = {}, {}
    for prefix, _setting in SECRETS:
        masks[prefix] = crypto.mask(getattr(config, prefix))
        from_page[prefix] = bool(row and getattr(row, f"{prefix}_encrypted"))
    return ConfigSummary(
        masks=masks,
        from_page=from_page,
        graph_base_url=config.graph_base_url,
        backfill_interval=config.backfill_interval,
        speed_to_lead_agent_id=config.speed_to_lead_agent_id,
        metadata_answer_keys=config.metadata_answer_keys,
        last_error=row.last_error if row else "",
        last_error_at=row.last_error_at if row else None,
        webhook_url=f"{settings.SITE_URL.rstrip('/')}/meta-leads-webhook/",
        sandbox=settings.PROVIDER_SANDBOX,
    )


def form_list() -> QuerySet[MetaForm]:
    return MetaForm.objects.prefetch_related("assignees__team_member").order_by("name", "form_id")


def reps_for_rota() -> QuerySet[TeamMember]:
    return TeamMember.objects.filter(role=Role.REP, is_active=True).order_by("name")


def delivery_counts() -> dict[str, int]:
    rows = MetaLeadDelivery.objects.values("status").annotate(n=Count("pk"))
    return {row["status"]: row["n"] for row in rows}


def deliveries_recent(limit: int = 20) -> QuerySet[MetaLeadDelivery]:
    return MetaLeadDelivery.objects.select_related("lead").order_by("-received_at", "-id")[:limit]


def rejections_recent(limit: int = 5) -> QuerySet[MetaWebhookRejection]:
    return MetaWebhookRejection.objects.order_by("-received_at", "-id")[:limit]
