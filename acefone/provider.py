"""Acefone click-to-call behind the common provider interface."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from telephony.base import CallEvent, CallOptions, PlaceCallRequest, PlaceCallResult, TelephonyProvider
from telephony.errors import ProviderConfigError, ProviderUnsupported

from . import selectors
from .client import AcefoneClient
from .config import get_effective_config


class AcefoneProvider(TelephonyProvider):
    name = "acefone"
    label = "Acefone (human)"
    short_label = "Acefone"
    kind_label = "Human"
    asks_wrap_up = True
    started_message = "Acefone is ringing your phone: pick up and it connects the customer."
    call_log_model = "acefone.AcefoneCallLog"
    config_template = "acefone/_config.html"

    def config_context(self) -> dict[str, Any]:
        return selectors.config_context()

    def client(self) -> AcefoneClient:
        """A client with the token in force now (one saved on the config page wins over the environment)."""
        config = get_effective_config()
        if not config.api_token:
            raise ProviderConfigError("Acefone has no API token (configuration page or ACEFONE_API_TOKEN)")
        return AcefoneClient(api_token=config.api_token, base_url=config.base_url, time_zone=config.time_zone)

    def call_log_defaults(self, *, lead: Any, team_member: Any, options: CallOptions) -> dict[str, Any]:
        """The rep's agent number (rung first) and our caller id; refuses what Acefone cannot do."""
        if options.schedule_at is not None:
            raise ProviderUnsupported("Acefone cannot schedule a call", provider=self.name)
        if not get_effective_config().api_token:
            raise ProviderConfigError("Acefone is not configured (no API token)")
        agent_number = getattr(team_member, "acefone_agent_number", "") if team_member else ""
        if not agent_number:
            raise ProviderConfigError("This team member has no Acefone agent number")
        return {"agent_number": agent_number, "caller_id": settings.ACEFONE_CALLER_ID}

    def request_for(self, call_log: Any) -> PlaceCallRequest:
        return PlaceCallRequest(
            call_log_id=call_log.pk,
            lead_id=call_log.lead_id,
            to_number=call_log.to_number,
            team_member_id=call_log.team_member_id,
            agent_number=call_log.agent_number,
            caller_id=call_log.caller_id,
            options=CallOptions(metadata=dict(call_log.metadata_sent or {})),
        )

    def place_call(self, request: PlaceCallRequest) -> PlaceCallResult:
        """Click-to-call. ``call_timeout`` (which disconnects the call) only when an admin set a maximum length."""
        if request.options.schedule_at is not None:
            raise ProviderUnsupported("Acefone cannot schedule a call", provider=self.name)
        with self.client() as client:
            return client.click_to_call(
                agent_number=request.agent_number,
                destination_number=request.to_number,
                caller_id=request.caller_id or settings.ACEFONE_CALLER_ID,
                call_timeout=get_effective_config().max_call_seconds,
                custom_identifier=request.call_log_id,
            )

    def parse_webhook(self, payload: Any) -> list[CallEvent]:
        from . import webhooks  # imported lazily: the registry loads this class early

        return webhooks.parse_payload(payload)

    def webhook_secrets(self) -> list[str]:
        # Comma-separated, so a new secret can be added before the old one is removed.
        return [s.strip() for s in settings.ACEFONE_WEBHOOK_SECRET.split(",") if s.strip()]

    def credentials_missing(self) -> str:
        if get_effective_config().api_token:
            return ""
        return "Acefone has no API token (ACEFONE_API_TOKEN or the configuration page)"

    def reconcile_stuck_calls(self, *, call_logs: list[Any]) -> int:
        """Settle stuck calls from Acefone's call-records API (its webhooks are optional)."""
        from . import webhooks

        return webhooks.call_records_reconcile(call_logs=call_logs, fetch_records=self.call_records)

    def call_records(self, from_date: Any, to_date: Any, page: int = 1, limit: int = 100) -> list[dict]:
        with self.client() as client:
            return client.call_records(from_date, to_date, page=page, limit=limit)

    def sandbox_webhook_url(self) -> str:
        from .sandbox import webhook_url

        return webhook_url()
