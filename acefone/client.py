"""Acefone's HTTP API (docs/architecture.md, provider contracts): click-to-call and call records for reconciliation."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from telephony.base import PlaceCallResult
from telephony.errors import ProviderRejected
from telephony.http import ProviderHttpClient

DIGITS = re.compile(r"^\d{6,15}$")


def truthy(value: Any) -> bool:
    """Acefone sends ``success`` as a bool or as the strings "true"/"false"."""
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "yes"}
    return bool(value)


def provider_digits(number: str) -> str:
    """E.164 ``+919812345678`` -> ``919812345678``: Acefone wants digits without '+'."""
    return (number or "").strip().removeprefix("+")


class AcefoneClient(ProviderHttpClient):
    provider = "acefone"
    label = "Acefone"

    def __init__(self, *, api_token: str, base_url: str, time_zone: str = "Asia/Kolkata", **kwargs: Any) -> None:
        self.api_token = api_token
        self.time_zone = time_zone
        super().__init__(base_url=base_url, **kwargs)

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_token}"}

    def click_to_call_payload(
        self,
        *,
        agent_number: str,
        destination_number: str,
        caller_id: str = "",
        call_timeout: int | None = None,
        custom_identifier: str | int = "",
    ) -> dict[str, Any]:
        agent_number = (agent_number or "").strip()
        if not agent_number or not re.fullmatch(r"\+?\d{2,15}", agent_number):
            raise ProviderRejected(
                "The rep has no valid Acefone agent number", field="agent_number", provider=self.provider
            )
        destination = provider_digits(destination_number)
        if not DIGITS.match(destination):
            raise ProviderRejected(
                f"destination_number must be digits, got {destination_number!r}",
                field="destination_number",
                provider=self.provider,
            )
        payload: dict[str, Any] = {
            "agent_number": agent_number,
            "destination_number": destination,
            "async": "1",  # always: a synchronous originate holds the request for the whole ring
        }
        if caller_id:
            payload["caller_id"] = caller_id
        if call_timeout is not None:
            # It disconnects the call after that many seconds: never a short one (config.MIN_CALL_SECONDS).
            if not isinstance(call_timeout, int) or isinstance(call_timeout, bool) or call_timeout < 60:
                raise ProviderRejected(
                    "call_timeout (the maximum call length) must be at least 60 seconds",
                    field="call_timeout",
                    provider=self.provider,
                )
            payload["call_timeout"] = call_timeout
        if custom_identifier != "":
            payload["custom_identifier"] = str(custom_identifier)
        return payload

    def click_to_call(self, **fields: Any) -> PlaceCallResult:
        """``POST /v1/click_to_call``. A ``ref_id`` in the answer is kept as the provider reference;
        hang-ups are matched on it and on our custom_identifier."""
        body = self.request("POST", "/v1/click_to_call", json=self.click_to_call_payload(**fields))
        if not isinstance(body, dict) or not truthy(body.get("success")):
            message = body.get("message") if isinstance(body, dict) else None
            raise ProviderRejected(message or "Acefone did not accept the call", provider=self.provider)
        ref_id = body.get("ref_id")
        ref_id = str(ref_id).strip()[:100] if ref_id not in (None, "") else ""
        return PlaceCallResult(provider_call_id=ref_id, message=str(body.get("message", "")), raw=body)

    def _stamp(self, value: datetime | str) -> str:
        if isinstance(value, str):
            return value
        if value.tzinfo is not None:
            value = value.astimezone(ZoneInfo(self.time_zone))
        return value.strftime("%Y-%m-%d %H:%M:%S")

    def call_records(
        self, from_date: datetime | str, to_date: datetime | str, page: int = 1, limit: int = 100
    ) -> list[dict]:
        """``GET /v1/call/records`` for reconciliation; accepts a bare list or a wrapped one."""
        params = {"from_date": self._stamp(from_date), "to_date": self._stamp(to_date), "page": page, "limit": limit}
        body = self.request("GET", "/v1/call/records", params=params)
        if isinstance(body, list):
            return body
        if isinstance(body, dict):
            for key in ("results", "data", "records"):
                if isinstance(body.get(key), list):
                    return body[key]
        return []
