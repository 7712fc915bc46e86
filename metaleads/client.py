"""Meta's Graph API for lead ads (design 5): one lead, a form's leads page by page, a form's name.

Every call here is a read, so the base's retries on refused connections, 429 and 503 are safe.
Graph reports a rate limit as HTTP 400 with an error code; those are mapped to ProviderUnavailable
(retry later), and an expired token to ProviderRejected (an admin must act).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import requests

from telephony.errors import ProviderUnavailable, TelephonyError
from telephony.http import ProviderHttpClient

LEAD_FIELDS = (
    "id,created_time,field_data,ad_id,ad_name,adset_id,adset_name,campaign_id,campaign_name,form_id,is_organic,platform"
)
#: Graph error codes that mean "too many calls, try later" (80005 is the lead-ads limit).
RATE_LIMIT_CODES = frozenset({4, 17, 32, 613, 80005})
#: Graph error codes that mean the token no longer works (expired, revoked, password changed).
TOKEN_CODES = frozenset({190, 102})
PAGE_SIZE = 100


def graph_error(response: requests.Response) -> dict[str, Any]:
    """Graph's ``{"error": {"message", "type", "code", ...}}``, or an empty dict."""
    try:
        body = response.json()
    except ValueError:
        return {}
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}


class GraphClient(ProviderHttpClient):
    provider = "meta"
    label = "Meta Graph API"

    def __init__(self, *, access_token: str, base_url: str, **kwargs: Any) -> None:
        self.access_token = access_token
        super().__init__(base_url=base_url, **kwargs)

    def auth_headers(self) -> dict[str, str]:
        # A header, not ?access_token=, so the token never lands in an access log or a recorded URL.
        return {"Authorization": f"Bearer {self.access_token}"}

    def error_message(self, response: requests.Response) -> str:
        error = graph_error(response)
        if error.get("message"):
            code = f" (code {error['code']})" if error.get("code") is not None else ""
            return f"{error['message']}{code}"
        return super().error_message(response)

    def _read(
        self, response: requests.Response, method: str, path: str, name: str
    ) -> tuple[Any, TelephonyError | None]:
        body, error = super()._read(response, method, path, name)
        if error is not None and response.status_code < 500 and response.status_code != 429:
            code = graph_error(response).get("code")
            if code in RATE_LIMIT_CODES:
                message = f"{name} rate limit: {self.error_message(response)}"
                return None, ProviderUnavailable(message, provider=self.provider, status_code=response.status_code)
        return body, error

    # --- endpoints -------------------------------------------------------------------------------
    def lead(self, leadgen_id: str) -> dict[str, Any]:
        """``GET /{leadgen_id}?fields=...``: the lead with its answers and ad names."""
        return self.request("GET", f"/{leadgen_id}", params={"fields": LEAD_FIELDS})

    def form(self, form_id: str) -> dict[str, Any]:
        """``GET /{form_id}?fields=name,page_id``: the form's name for the lead page."""
        return self.request("GET", f"/{form_id}", params={"fields": "id,name,page_id"})

    def form_leads(self, form_id: str, *, since: datetime | None) -> Iterator[list[dict[str, Any]]]:
        """``GET /{form_id}/leads`` one page at a time (cursor paging), leads created after ``since``."""
        params: dict[str, Any] = {"fields": LEAD_FIELDS, "limit": PAGE_SIZE}
        if since is not None:
            params["filtering"] = json.dumps(
                [{"field": "time_created", "operator": "GREATER_THAN", "value": int(since.timestamp())}]
            )
        while True:
            body = self.request("GET", f"/{form_id}/leads", params=params)
            rows = body.get("data") if isinstance(body, dict) else None
            yield [row for row in rows or [] if isinstance(row, dict)]
            paging = body.get("paging") if isinstance(body, dict) else None
            after = ((paging or {}).get("cursors") or {}).get("after")
            if not rows or not after or not (paging or {}).get("next"):
                return
            params = {**params, "after": after}
