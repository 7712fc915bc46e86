"""Call Karo AI behind the common provider interface."""

from __future__ import annotations

import dataclasses
from typing import Any

from telephony.base import CallEvent, CallOptions, PlaceCallRequest, PlaceCallResult, TelephonyProvider
from telephony.errors import ProviderConfigError, ProviderUnsupported

from .client import CallKaroClient
from .metadata import call_metadata_build
from .options import CallKaroOptions


class CallKaroProvider(TelephonyProvider):
    name = "callkaro"
    label = "Call Karo AI"
    short_label = "Call Karo AI"
    kind_label = "AI"
    call_log_model = "callkaro.CallKaroCallLog"
    #: A rep whose AI call cannot be placed is offered a human call (docs/architecture.md, fallback).
    fallback_provider = "acefone"
    places_ai_calls = True
    #: ``request_for`` reads the agent, the campaign's batch and the lead with its rep (the metadata).
    dial_related = ("lead__assigned_to", "agent", "campaign")

    def config(self):
        from .config import get_effective_config

        return get_effective_config()

    def dial_config(self):
        """The config for a dial: read once per process for a few seconds (a save here clears it at once)."""
        from .config import get_effective_config_cached

        return get_effective_config_cached()

    def client(self, config=None) -> CallKaroClient:
        """A client with the credentials in force now (a key saved on the config page wins)."""
        config = config or self.config()
        if not config.api_key:
            raise ProviderConfigError("Call Karo has no API key: set it on the configuration page")
        if not config.is_enabled:
            raise ProviderConfigError("Call Karo calling is disabled on the configuration page")
        return CallKaroClient(api_key=config.api_key, base_url=config.base_url, time_zone=config.time_zone)

    # --- what call_place asks of a provider ----------------------------------------------------
    def call_log_defaults(self, *, lead: Any, team_member: Any, options: CallOptions) -> dict[str, Any]:
        """Model fields for a new call log from the options; raises ProviderConfigError when unusable."""
        from .models import CallKaroAgent

        config = self.config()
        if not config.is_configured:
            raise ProviderConfigError("Call Karo is not configured (API key missing or calling disabled)")
        options = CallKaroOptions.from_call_options(options)
        agent_id = options.agent_id or config.default_agent_id
        if not agent_id:
            raise ProviderConfigError("No AI agent chosen and no default agent configured")
        fields: dict[str, Any] = {"agent": CallKaroAgent.objects.filter(agent_id=agent_id).first()}
        fields.update(options.to_row_fields())
        if options.agent_id and fields["agent"] is None:
            fields["metadata_extra"] = {"agent_id": options.agent_id}
        return fields

    def request_for(self, call_log: Any) -> PlaceCallRequest:
        """Rebuild the request from the stored row, so a dispatch in another process sends the same call."""
        config = self.dial_config()
        agent_id = ""
        if call_log.agent_id:
            agent_id = call_log.agent.agent_id
        agent_id = agent_id or (call_log.metadata_sent or {}).get("agent_id", "") or config.default_agent_id
        batch_id = call_log.campaign.batch_id if call_log.campaign_id else ""
        # Built now, from the lead as it is at dial time: the fields chosen on the config page.
        metadata = call_metadata_build(
            lead=call_log.lead,
            call_log_id=call_log.pk,
            fields=config.metadata_fields,
            extra={k: v for k, v in (call_log.metadata_sent or {}).items() if k != "agent_id"},
        )
        options = CallKaroOptions.from_row(call_log, agent_id=agent_id, batch_id=batch_id, metadata=metadata)
        return PlaceCallRequest(
            call_log_id=call_log.pk,
            lead_id=call_log.lead_id,
            to_number=call_log.to_number,
            team_member_id=call_log.team_member_id,
            options=options,
        )

    # --- the interface -----------------------------------------------------------------------
    def place_call(self, request: PlaceCallRequest) -> PlaceCallResult:
        options = CallKaroOptions.from_call_options(request.options)
        metadata = {**options.metadata, "call_log_id": request.call_log_id, "lead_id": request.lead_id}
        config = self.dial_config()
        with self.client(config) as client:
            if not options.agent_id:
                options = dataclasses.replace(options, agent_id=config.default_agent_id)
            return client.outbound_call(to_number=request.to_number, options=options, metadata=metadata)

    def parse_webhook(self, payload: Any) -> list[CallEvent]:
        from . import webhooks  # imported lazily: the registry loads this class early

        return webhooks.parse_payload(payload)

    def webhook_secrets(self) -> list[str]:
        from .config import get_effective_config_cached

        # Cached for a few seconds in this process; a save on the config page clears it at once.
        return get_effective_config_cached().webhook_secrets

    def credentials_missing(self) -> str:
        if not self.config().api_key:
            return "Call Karo has no API key (CALLKARO_API_KEY or the configuration page)"
        return ""

    def cancel_call(self, *, call_log: Any) -> None:
        """Withdraw a call handed to Call Karo with a schedule_at."""
        request = self.request_for(call_log)
        if not request.options.agent_id:
            raise ProviderUnsupported("No agent id to cancel the scheduled call with", provider=self.name)
        with self.client() as client:
            client.delete_scheduled_call(request.options.agent_id, call_log.to_number)

    def check_credentials(self) -> bool:
        with self.client() as client:
            return client.check_credentials()

    def create_campaign(self, name: str, agent_id: str | None = None) -> str:
        """v1 (one agent per campaign) or v2 (name only; each call names its agent), as configured."""
        version = self.config().campaign_api_version
        with self.client() as client:
            return client.create_campaign(name, agent_id if version == "v1" else None, version=version)

    def sandbox_webhook_url(self) -> str:
        from .sandbox import webhook_url

        return webhook_url()
