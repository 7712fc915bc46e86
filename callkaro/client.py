"""Call Karo AI's HTTP API (docs/architecture.md): outbound calls, campaigns, deleting a scheduled call.

Every request is validated before it is sent, so a bad value is our error, not a 400 later.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from telephony.base import PlaceCallResult
from telephony.errors import ProviderRejected
from telephony.http import ProviderHttpClient

E164 = re.compile(r"^\+[1-9]\d{1,14}$")
HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
LANGUAGES = frozenset({"hi", "en", "kn", "mr", "ta", "te", "bn", "gu", "ml"})
SUCCESS_STATUSES = frozenset({"done", "success"})


def _invalid(message: str, field: str) -> ProviderRejected:
    return ProviderRejected(message, field=field, provider="callkaro")


def format_schedule_at(value: datetime, time_zone: str) -> str:
    """``YYYY-MM-DDTHH:MM:SS`` in the account's zone: Call Karo reads it without a zone."""
    if value.tzinfo is None:
        raise _invalid("schedule_at must be an aware datetime", "schedule_at")
    return value.astimezone(ZoneInfo(time_zone)).strftime("%Y-%m-%dT%H:%M:%S")


class CallKaroClient(ProviderHttpClient):
    provider = "callkaro"
    label = "Call Karo AI"

    def __init__(self, *, api_key: str, base_url: str, time_zone: str = "Asia/Kolkata", **kwargs: Any) -> None:
        self.api_key = api_key
        self.time_zone = time_zone
        super().__init__(base_url=base_url, **kwargs)

    def auth_headers(self) -> dict[str, str]:
        return {"X-API-KEY": self.api_key}

    # --- calls -------------------------------------------------------------------------------
    def outbound_payload(
        self,
        *,
        to_number: str,
        agent_id: str,
        batch_id: str = "",
        metadata: dict | None = None,
        schedule_at: datetime | None = None,
        min_trigger_time: str = "",
        max_trigger_time: str = "",
        carry_over: bool | None = None,
        number_of_retries: int | None = None,
        gap_between_retries: int | list[int] | None = None,
        priority: int | None = None,
        language: str = "",
    ) -> dict[str, Any]:
        """The JSON body of ``POST /call/outbound``, validated; optional fields only when set."""
        if not to_number or not E164.match(to_number):
            raise _invalid(f"to_number must be E.164 with '+', got {to_number!r}", "to_number")
        if not agent_id:
            raise _invalid("agent_id is required", "agent_id")
        payload: dict[str, Any] = {"to_number": to_number, "agent_id": agent_id}
        if batch_id:
            payload["batch_id"] = batch_id
        if metadata:
            if not isinstance(metadata, dict):
                raise _invalid("metadata must be an object", "metadata")
            payload["metadata"] = metadata
        if schedule_at is not None:
            payload["schedule_at"] = format_schedule_at(schedule_at, self.time_zone)
        for name, value in (("min_trigger_time", min_trigger_time), ("max_trigger_time", max_trigger_time)):
            if value:
                if not HHMM.match(value):
                    raise _invalid(f"{name} must be HH:MM, got {value!r}", name)
                payload[name] = value
        if carry_over is not None:
            payload["carry_over"] = bool(carry_over)
        if number_of_retries is not None:
            if isinstance(number_of_retries, bool) or not isinstance(number_of_retries, int):
                raise _invalid("number_of_retries must be an integer", "number_of_retries")
            if not 0 <= number_of_retries <= 10:
                raise _invalid("number_of_retries must be between 0 and 10", "number_of_retries")
            payload["number_of_retries"] = number_of_retries
        if gap_between_retries is not None:
            gaps = gap_between_retries if isinstance(gap_between_retries, list) else [gap_between_retries]
            if not gaps or any(isinstance(g, bool) or not isinstance(g, int) or g < 0 for g in gaps):
                raise _invalid("gap_between_retries must be minutes: an int or a list of ints", "gap_between_retries")
            payload["gap_between_retries"] = gap_between_retries
        if priority is not None:
            if isinstance(priority, bool) or not isinstance(priority, int) or not -100 <= priority <= 100:
                raise _invalid("priority must be an integer between -100 and 100", "priority")
            payload["priority"] = priority
        if language:
            if language not in LANGUAGES:
                raise _invalid(f"language must be one of {', '.join(sorted(LANGUAGES))}", "language")
            payload["language"] = language
        return payload

    def outbound_call(self, **fields: Any) -> PlaceCallResult:
        """``POST /call/outbound``. Accepts both documented success shapes."""
        body = self.request("POST", "/call/outbound", json=self.outbound_payload(**fields))
        return self._parse_outbound(body)

    def _parse_outbound(self, body: Any) -> PlaceCallResult:
        if not isinstance(body, dict) or str(body.get("status", "")).lower() not in SUCCESS_STATUSES:
            message = body.get("message") if isinstance(body, dict) else None
            raise ProviderRejected(message or f"Unexpected answer from Call Karo: {body!r}"[:300], provider="callkaro")
        call_id = body.get("call_sid") or body.get("call_id") or ""
        return PlaceCallResult(provider_call_id=str(call_id), message=str(body.get("message", "")), raw=body)

    # --- campaigns ---------------------------------------------------------------------------
    def create_campaign(self, name: str, agent_id: str | None = None) -> str:
        """v1 ``/call/campaign`` (one agent) when ``agent_id`` is given, else v2. Returns the batch_id."""
        if not name or not name.strip():
            raise _invalid("A campaign needs a name", "name")
        if agent_id:
            body = self.request("POST", "/call/campaign", json={"name": name, "agent_id": agent_id})
        else:
            body = self.request("POST", "/v2/call/campaign", json={"name": name})
        if not isinstance(body, dict) or not body.get("batch_id"):
            message = body.get("message") if isinstance(body, dict) else None
            raise ProviderRejected(message or "Call Karo returned no batch_id", provider="callkaro")
        return str(body["batch_id"])

    def delete_scheduled_call(self, agent_id: str, to_number: str) -> dict:
        """``POST /call/delete-schedule-call?agent_id=...`` with ``{to_number}``."""
        if not agent_id:
            raise _invalid("agent_id is required", "agent_id")
        if not E164.match(to_number or ""):
            raise _invalid(f"to_number must be E.164 with '+', got {to_number!r}", "to_number")
        body = self.request(
            "POST", "/call/delete-schedule-call", params={"agent_id": agent_id}, json={"to_number": to_number}
        )
        return body if isinstance(body, dict) else {"raw": body}

    def check_credentials(self) -> bool:
        """A harmless authenticated request: an empty outbound call.

        403 means a bad key (ProviderRejected is raised); 400 "missing field" means the key was
        accepted and nothing was dialled.
        """
        try:
            self.request("POST", "/call/outbound", json={})
        except ProviderRejected as exc:
            if exc.status_code == 400:
                return True
            raise
        return True
