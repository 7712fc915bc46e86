"""Shared test data for Meta lead ads: Graph leads, signed deliveries, mocked endpoints."""

from __future__ import annotations

import json
from typing import Any

import responses
from django.test import Client

from metaleads.client import LEAD_FIELDS
from metaleads.webhooks import signature_for

GRAPH = "https://graph.meta.test/v25.0"
APP_SECRET = "meta-app-secret-0001"
VERIFY_TOKEN = "meta-verify-token-0001"
PAGE_TOKEN = "meta-page-token-0001"
CALLKARO = "https://api.callkaro.test"
CALLKARO_KEY = "ck-test-key-0001"
FORM_ID = "555000111"
URL = "/meta-leads-webhook/"


def graph_lead(
    leadgen_id: str,
    *,
    phone: str = "+919812345678",
    name: str = "Asha Rao",
    form_id: str = FORM_ID,
    platform: str = "fb",
    created_time: str = "2026-11-30T07:00:00+0000",
    extra: list[dict] | None = None,
) -> dict[str, Any]:
    return {
        "id": leadgen_id,
        "created_time": created_time,
        "form_id": form_id,
        "ad_id": "ad1",
        "ad_name": "Video ad",
        "adset_id": "as1",
        "adset_name": "Bengaluru 25-45",
        "campaign_id": "c1",
        "campaign_name": "Launch",
        "is_organic": False,
        "platform": platform,
        "field_data": [
            {"name": "full_name", "values": [name]},
            {"name": "phone_number", "values": [phone]},
            {"name": "email", "values": ["asha@example.com"]},
            {"name": "city", "values": ["Pune"]},
            *(extra or []),
        ],
    }


def change(leadgen_id: str, form_id: str = FORM_ID) -> dict[str, Any]:
    return {
        "field": "leadgen",
        "value": {
            "leadgen_id": leadgen_id,
            "page_id": "pg1",
            "form_id": form_id,
            "ad_id": "ad1",
            "adgroup_id": "as1",
            "created_time": 1796022000,
        },
    }


def delivery(*entries: list[str]) -> bytes:
    """A body with one entry per list of lead ids, one change per id."""
    body = {
        "object": "page",
        "entry": [{"id": "pg1", "time": 1796022000, "changes": [change(i) for i in ids]} for ids in entries],
    }
    return json.dumps(body).encode()


def post(client: Client, body: bytes, *, secret: str = APP_SECRET, signature: str | None = None):
    headers = {"X-Hub-Signature-256": signature if signature is not None else signature_for(body, secret)}
    return client.post(URL, body, content_type="application/json", headers=headers)


def mock_lead(data: dict[str, Any], *, status: int = 200) -> responses.BaseResponse:
    return responses.get(
        f"{GRAPH}/{data['id']}",
        json=data,
        status=status,
        match=[responses.matchers.query_param_matcher({"fields": LEAD_FIELDS})],
    )


def mock_form_name(form_id: str = FORM_ID, name: str = "2BHK enquiry") -> None:
    responses.get(f"{GRAPH}/{form_id}", json={"id": form_id, "name": name, "page_id": "pg1"})


def mock_callkaro_ok() -> None:
    responses.post(f"{CALLKARO}/call/outbound", json={"status": "done", "message": "Call queued", "call_sid": "s1"})
