"""Contract tests for the Acefone client: exactly what goes over the wire, and how answers are read."""

from __future__ import annotations

import json
import logging
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import requests
import responses
from responses import matchers

from acefone.client import AcefoneClient, provider_digits, truthy
from telephony.errors import ProviderOutcomeUnknown, ProviderRejected, ProviderUnavailable

BASE = "https://api.acefone.test"
TOKEN = "acefone-token-0badc0ffee"


@pytest.fixture(autouse=True)
def _fast_retries(settings):
    settings.TELEPHONY_HTTP_BACKOFF = 0
    settings.TELEPHONY_HTTP_RETRIES = 2


@pytest.fixture
def client():
    return AcefoneClient(api_token=TOKEN, base_url=BASE)


def call(client, **overrides):
    fields = {
        "agent_number": "0602000004",
        "destination_number": "+919812345678",
        "caller_id": "918069000001",
        "custom_identifier": 77,
    }
    return client.click_to_call(**{**fields, **overrides})


@responses.activate
def test_click_to_call_request(client):
    responses.post(
        f"{BASE}/v1/click_to_call",
        json={"success": True, "message": "Originate successfully queued"},
        match=[matchers.header_matcher({"Authorization": f"Bearer {TOKEN}"})],
    )
    result = call(client)
    assert result.provider_call_id == ""
    assert result.message == "Originate successfully queued"
    (sent,) = responses.calls
    assert (sent.request.method, sent.request.url) == ("POST", f"{BASE}/v1/click_to_call")
    assert sent.request.headers["User-Agent"].startswith("lead-crm-telephony/")
    assert json.loads(sent.request.body) == {
        "agent_number": "0602000004",
        "destination_number": "919812345678",
        "caller_id": "918069000001",
        "async": "1",
        "custom_identifier": "77",
    }
    assert "call_timeout" not in json.loads(sent.request.body)  # it would disconnect the call


@responses.activate
def test_a_maximum_call_length_is_sent_as_call_timeout(client):
    responses.post(f"{BASE}/v1/click_to_call", json={"success": True, "message": "queued", "ref_id": "ref-991"})
    result = call(client, call_timeout=3600)
    assert json.loads(responses.calls[0].request.body)["call_timeout"] == 3600
    assert result.provider_call_id == "ref-991"  # kept as the provider reference


@pytest.mark.parametrize("seconds", [30, 59, 0, -5, True])
def test_a_call_timeout_under_a_minute_is_refused_before_sending(client, seconds):
    with pytest.raises(ProviderRejected, match="at least 60"):
        client.click_to_call_payload(
            agent_number="0602000004", destination_number="+919812345678", call_timeout=seconds
        )


@pytest.mark.parametrize("success", [True, "true", "True"])
@responses.activate
def test_success_as_bool_or_string(client, success):
    responses.post(f"{BASE}/v1/click_to_call", json={"success": success, "message": "queued"})
    assert call(client).message == "queued"


@pytest.mark.parametrize("success", [False, "false", "0"])
@responses.activate
def test_false_success_is_rejected_with_message(client, success):
    responses.post(f"{BASE}/v1/click_to_call", json={"success": success, "message": "Agent is offline"})
    with pytest.raises(ProviderRejected, match="Agent is offline"):
        call(client)


@pytest.mark.parametrize("status", [401, 403])
@responses.activate
def test_bad_token(client, status):
    responses.post(f"{BASE}/v1/click_to_call", json={"success": False, "message": "Invalid token"}, status=status)
    with pytest.raises(ProviderRejected) as exc:
        call(client)
    assert exc.value.status_code == status
    assert exc.value.message == "Invalid token"
    assert len(responses.calls) == 1


@responses.activate
def test_429_with_retry_after(client):
    responses.post(f"{BASE}/v1/click_to_call", json={"message": "rate"}, status=429, headers={"Retry-After": "12"})
    with pytest.raises(ProviderUnavailable) as exc:
        call(client)
    assert exc.value.retry_after == 12
    assert exc.value.status_code == 429


@responses.activate
def test_429_then_success_is_retried(client):
    responses.post(f"{BASE}/v1/click_to_call", status=429, headers={"Retry-After": "0"})
    responses.post(f"{BASE}/v1/click_to_call", json={"success": "true", "message": "ok"})
    assert call(client).message == "ok"
    assert len(responses.calls) == 2


@responses.activate
def test_read_timeout_sent_once(client):
    responses.post(f"{BASE}/v1/click_to_call", body=requests.ReadTimeout())
    with pytest.raises(ProviderOutcomeUnknown):
        call(client)
    assert len(responses.calls) == 1


@pytest.mark.parametrize(
    ("fields", "field"),
    [({"agent_number": ""}, "agent_number"), ({"destination_number": "+91-98"}, "destination_number")],
)
@responses.activate
def test_validates_before_sending(client, fields, field):
    with pytest.raises(ProviderRejected) as exc:
        call(client, **fields)
    assert exc.value.field == field
    assert not responses.calls


@responses.activate
def test_call_records(client):
    responses.get(
        f"{BASE}/v1/call/records",
        json={"results": [{"call_id": "1"}, {"call_id": "2"}]},
        match=[
            matchers.query_param_matcher(
                {"from_date": "2026-11-20 09:00:00", "to_date": "2026-11-20 18:00:00", "page": "2", "limit": "50"}
            ),
            matchers.header_matcher({"Authorization": f"Bearer {TOKEN}"}),
        ],
    )
    ist = ZoneInfo("Asia/Kolkata")
    rows = client.call_records(
        datetime(2026, 11, 20, 3, 30, tzinfo=ZoneInfo("UTC")), datetime(2026, 11, 20, 18, 0, tzinfo=ist), 2, 50
    )
    assert [r["call_id"] for r in rows] == ["1", "2"]


@responses.activate
def test_call_records_bare_list(client):
    responses.get(f"{BASE}/v1/call/records", json=[{"call_id": "9"}])
    assert client.call_records("2026-11-20 00:00:00", "2026-11-21 00:00:00") == [{"call_id": "9"}]


@responses.activate
def test_token_never_in_logs_or_errors(client, caplog):
    caplog.set_level(logging.DEBUG)
    responses.post(f"{BASE}/v1/click_to_call", json={"message": f"token {TOKEN} revoked"}, status=401)
    with pytest.raises(ProviderRejected) as exc:
        call(client)
    logging.getLogger("acefone").error("Authorization: Bearer %s", TOKEN)
    text = str(exc.value) + "".join(r.getMessage() for r in caplog.records)
    assert TOKEN not in text


def test_helpers():
    assert provider_digits("+919812345678") == "919812345678"
    assert truthy("TRUE") and truthy(1) and not truthy("false") and not truthy(None)
