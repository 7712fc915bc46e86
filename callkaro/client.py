"""Call Karo AI's HTTP API (docs/architecture.md): outbound calls, campaigns, deleting a scheduled call.

Every request is validated before it is sent (the options by ``callkaro.options``), so a bad value
is our error, not a 400 later.
"""

from __future__ import annotations

import re
from typing import Any

from telephony.base import PlaceCallResult
from telephony.errors import ProviderRejected
from telephony.http import ProviderHttpClient

from .options import CallKaroOptions

E164 = re.compile(r"^\+[1-9]\d{1,14}$")
SUCCESS_STATUSES = frozenset({"done", "success"})


def _invalid(message: str, field: str) -> ProviderRejected:
    return ProviderRejected(message, field=field, provider="callkaro")


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
        self, *, to_number: str, options: CallKaroOptions, metadata: dict | None = None
    ) -> dict[str, Any]:
        """The JSON body of ``POST /call/outbound``: the number checked here, the rest by the options."""
        if not to_number or not E164.match(to_number):
            raise _invalid(f"to_number must be E.164 with '+', got {to_number!r}", "to_number")
        return options.to_body(to_number=to_number, time_zone=self.time_zone, metadata=metadata)

    def outbound_call(
        self, *, to_number: str, options: CallKaroOptions, metadata: dict | None = None
    ) -> PlaceCallResult:
        """``POST /call/outbound``. Accepts both documented success shapes."""
        payload = self.outbound_payload(to_number=to_number, options=options, metadata=metadata)
        body = self.request("POST", "/call/outbound", json=payload)
        return self._parse_outbound(body)

    def _parse_outbound(self, body: Any) -> PlaceCallResult:
        if not isinstance(body, dict) or str(body.get("status", "")).lower() not in SUCCESS_STATUSES:
            message = body.get("message") if isinstance(body, dict) else None
            raise ProviderRejected(message or f"Unexpected answer from Call Karo: {body!r}"[:300], provider="callkaro")
        call_id = body.get("call_sid") or body.get("call_id") or ""
        return PlaceCallResult(provider_call_id=str(call_id), message=str(body.get("message", "")), raw=body)

    # --- campaigns ---------------------------------------------------------------------------
    def create_campaign(self, name: str, agent_id: str | None = None, *, version: str = "") -> str:
        """v1 ``POST /call/campaign`` ``{name, agent_id}`` or v2 ``POST /v2/call/campaign`` ``{name}``.

        Without ``version``, v1 when ``agent_id`` is given, else v2. Returns the batch_id.
        """
        if not name or not name.strip():
            raise _invalid("A campaign needs a name", "name")
        version = version or ("v1" if agent_id else "v2")
        if version == "v1":
            if not agent_id:
                raise _invalid("A v1 campaign needs its agent_id", "agent_id")
            body = self.request("POST", "/call/campaign", json={"name": name, "agent_id": agent_id})
        elif version == "v2":
            body = self.request("POST", "/v2/call/campaign", json={"name": name})
        else:
            raise _invalid(f"Unknown campaign API version {version!r}: v1 or v2", "version")
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
