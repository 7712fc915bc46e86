"""Contract tests for the Call Karo client: exactly what goes over the wire, and how answers are read."""

from __future__ import annotations

import json
import logging
import socket
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import requests
import responses
from responses import matchers

from callkaro.client import CallKaroClient
from callkaro.options import CallKaroOptions, CallKaroOptionsInvalid, format_schedule_at
from telephony.errors import ProviderOutcomeUnknown, ProviderRejected, ProviderUnavailable

BASE = "https://api.callkaro.test"
KEY = "ck-live-3f9a-secret-key"


@pytest.fixture(autouse=True)
def _fast_retries(settings):
    settings.TELEPHONY_HTTP_BACKOFF = 0
    settings.TELEPHONY_HTTP_RETRIES = 2


@pytest.fixture
def client():
    return CallKaroClient(api_key=KEY, base_url=BASE + "/", time_zone="Asia/Kolkata")


def sent(call) -> dict:
    return json.loads(call.request.body)


@responses.activate
def test_outbound_sends_every_documented_field(client):
    responses.post(
        f"{BASE}/call/outbound",
        json={"status": "done", "message": "Call queued successfully", "call_sid": "sid-1"},
        match=[matchers.header_matcher({"X-API-KEY": KEY, "Content-Type": "application/json"})],
    )
    when = datetime(2026, 11, 20, 6, 0, tzinfo=ZoneInfo("UTC"))
    options = CallKaroOptions(
        agent_id="agent-1",
        batch_id="batch-9",
        schedule_at=when,
        min_trigger_time="09:30",
        max_trigger_time="20:00",
        carry_over=True,
        number_of_retries=2,
        gap_between_retries=[10, 30],
        priority=-5,
        language="hi",
    )
    result = client.outbound_call(to_number="+919812345678", options=options, metadata={"call_log_id": 5, "lead_id": 7})
    assert result.provider_call_id == "sid-1"
    assert result.message == "Call queued successfully"
    (call,) = responses.calls
    assert call.request.method == "POST"
    assert call.request.url == f"{BASE}/call/outbound"
    assert call.request.headers["User-Agent"].startswith("lead-crm-telephony/")
    assert sent(call) == {
        "to_number": "+919812345678",
        "agent_id": "agent-1",
        "batch_id": "batch-9",
        "metadata": {"call_log_id": 5, "lead_id": 7},
        "schedule_at": "2026-11-20T11:30:00",  # 06:00 UTC in Asia/Kolkata, no zone suffix
        "min_trigger_time": "09:30",
        "max_trigger_time": "20:00",
        "carry_over": True,
        "number_of_retries": 2,
        "gap_between_retries": [10, 30],
        "priority": -5,
        "language": "hi",
    }


@responses.activate
def test_outbound_minimal_body_and_old_response_shape(client):
    responses.post(f"{BASE}/call/outbound", json={"status": "success", "call_id": "old-7", "message": "ok"})
    options = CallKaroOptions(agent_id="a", gap_between_retries=15)
    result = client.outbound_call(to_number="+14155550100", options=options)
    assert result.provider_call_id == "old-7"
    assert sent(responses.calls[0]) == {"to_number": "+14155550100", "agent_id": "a", "gap_between_retries": 15}


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"to_number": "919812345678"}, "to_number"),
        ({"to_number": "+0919812345678"}, "to_number"),
        ({"agent_id": ""}, "agent_id"),
        ({"number_of_retries": 11}, "number_of_retries"),
        ({"number_of_retries": -1}, "number_of_retries"),
        ({"priority": 101}, "priority"),
        ({"priority": -101}, "priority"),
        ({"language": "fr"}, "language"),
        ({"min_trigger_time": "9:00"}, "min_trigger_time"),
        ({"max_trigger_time": "24:00"}, "max_trigger_time"),
        ({"gap_between_retries": [10, "x"]}, "gap_between_retries"),
        ({"schedule_at": datetime(2026, 1, 1, 10, 0)}, "schedule_at"),  # naive: zone unknown
    ],
)
@responses.activate
def test_outbound_validates_before_sending(client, fields, field):
    """The number is the client's to check; every option is checked when the options value is built."""
    base = {"to_number": "+919812345678", "agent_id": "agent-1"}
    fields = {**base, **fields}
    to_number = fields.pop("to_number")
    with pytest.raises(ProviderRejected) as exc:
        client.outbound_call(to_number=to_number, options=CallKaroOptions(**fields))
    assert exc.value.field == field
    assert len(responses.calls) == 0
    if field != "to_number":
        assert isinstance(exc.value, CallKaroOptionsInvalid)


def test_boundaries_are_accepted(client):
    options = CallKaroOptions(agent_id="a", number_of_retries=10, priority=100, min_trigger_time="00:00")
    payload = client.outbound_payload(to_number="+12", options=options)
    assert payload["number_of_retries"] == 10 and payload["priority"] == 100
    low = CallKaroOptions(agent_id="a", priority=-100, number_of_retries=0)
    assert client.outbound_payload(to_number="+123456789012345", options=low)["number_of_retries"] == 0


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (400, {"status": "error", "message": "to_number is required"}, "to_number is required"),
        (403, {"status": "error", "message": "Invalid API key"}, "Invalid API key"),
        (404, {"status": "error", "message": "Agent does not exist"}, "Agent does not exist"),
    ],
)
@responses.activate
def test_4xx_is_rejected_with_the_providers_message(client, status, body, message):
    responses.post(f"{BASE}/call/outbound", json=body, status=status)
    with pytest.raises(ProviderRejected) as exc:
        client.outbound_call(to_number="+919812345678", options=CallKaroOptions(agent_id="agent-1"))
    assert exc.value.message == message
    assert exc.value.status_code == status
    assert len(responses.calls) == 1  # never retried


@responses.activate
def test_200_with_error_status_is_rejected(client):
    responses.post(f"{BASE}/call/outbound", json={"status": "error", "message": "Insufficient balance"})
    with pytest.raises(ProviderRejected, match="Insufficient balance"):
        client.outbound_call(to_number="+919812345678", options=CallKaroOptions(agent_id="agent-1"))


@responses.activate
def test_500_is_unavailable_and_not_retried(client):
    responses.post(f"{BASE}/call/outbound", json={"status": "error", "message": "boom"}, status=500)
    with pytest.raises(ProviderUnavailable) as exc:
        client.outbound_call(to_number="+919812345678", options=CallKaroOptions(agent_id="agent-1"))
    assert exc.value.status_code == 500
    assert len(responses.calls) == 1  # a 500 may come after acceptance: not retried


@responses.activate
def test_503_is_retried_then_succeeds(client):
    url = f"{BASE}/call/outbound"
    responses.post(url, json={"status": "error", "message": "busy"}, status=503)
    responses.post(url, json={"status": "done", "call_sid": "s2"})
    assert (
        client.outbound_call(to_number="+919812345678", options=CallKaroOptions(agent_id="agent-1")).provider_call_id
        == "s2"
    )
    assert len(responses.calls) == 2


@responses.activate
def test_429_retries_are_bounded_and_keep_retry_after(client):
    responses.post(f"{BASE}/call/outbound", json={"message": "slow down"}, status=429, headers={"Retry-After": "7"})
    with pytest.raises(ProviderUnavailable) as exc:
        client.outbound_call(to_number="+919812345678", options=CallKaroOptions(agent_id="agent-1"))
    assert exc.value.retry_after == 7
    assert len(responses.calls) == 3  # the first try and two retries


@responses.activate
def test_read_timeout_is_ambiguous_and_sent_once(client):
    responses.post(f"{BASE}/call/outbound", body=requests.ReadTimeout("read timed out"))
    with pytest.raises(ProviderOutcomeUnknown):
        client.outbound_call(to_number="+919812345678", options=CallKaroOptions(agent_id="agent-1"))
    assert len(responses.calls) == 1


def test_connection_refused_is_unavailable(settings):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = CallKaroClient(api_key=KEY, base_url=f"http://127.0.0.1:{port}")
    with pytest.raises(ProviderUnavailable, match="could not be reached"):
        client.outbound_call(to_number="+919812345678", options=CallKaroOptions(agent_id="agent-1"))


@responses.activate
def test_campaign_v1_and_v2(client):
    responses.post(f"{BASE}/call/campaign", json={"batch_id": "b1", "message": "created", "status": "success"})
    responses.post(f"{BASE}/v2/call/campaign", json={"batch_id": "b2", "message": "created", "status": "success"})
    assert client.create_campaign("Diwali", agent_id="agent-1") == "b1"
    assert client.create_campaign("Diwali 2") == "b2"
    first, second = responses.calls
    assert (first.request.method, first.request.url) == ("POST", f"{BASE}/call/campaign")
    assert sent(first) == {"name": "Diwali", "agent_id": "agent-1"}
    assert first.request.headers["X-API-KEY"] == KEY
    assert (second.request.method, second.request.url) == ("POST", f"{BASE}/v2/call/campaign")
    assert sent(second) == {"name": "Diwali 2"}


@responses.activate
def test_campaign_without_batch_id_is_rejected(client):
    responses.post(f"{BASE}/v2/call/campaign", json={"status": "error", "message": "name taken"})
    with pytest.raises(ProviderRejected, match="name taken"):
        client.create_campaign("x")


@responses.activate
def test_delete_scheduled_call(client):
    responses.post(
        f"{BASE}/call/delete-schedule-call",
        json={"status": "success", "message": "deleted"},
        match=[
            matchers.query_param_matcher({"agent_id": "agent-1"}),
            matchers.json_params_matcher({"to_number": "+919812345678"}),
        ],
    )
    assert client.delete_scheduled_call("agent-1", "+919812345678")["status"] == "success"
    assert responses.calls[0].request.headers["X-API-KEY"] == KEY


@responses.activate
def test_check_credentials_reads_400_as_a_good_key(client):
    responses.post(f"{BASE}/call/outbound", json={"status": "error", "message": "to_number is required"}, status=400)
    assert client.check_credentials() is True
    assert sent(responses.calls[0]) == {}


@responses.activate
def test_check_credentials_bad_key(client):
    responses.post(f"{BASE}/call/outbound", json={"status": "error", "message": "Invalid API key"}, status=403)
    with pytest.raises(ProviderRejected) as exc:
        client.check_credentials()
    assert exc.value.status_code == 403


@responses.activate
def test_the_key_never_reaches_logs_or_errors(client, caplog):
    caplog.set_level(logging.DEBUG)
    responses.post(f"{BASE}/call/outbound", json={"status": "error", "message": f"bad key {KEY}"}, status=403)
    responses.post(f"{BASE}/v2/call/campaign", json={"message": f"X-API-KEY: {KEY}"}, status=500)
    errors = []
    for action in (
        lambda: client.outbound_call(to_number="+919812345678", options=CallKaroOptions(agent_id="a")),
        lambda: client.create_campaign("c"),
    ):
        with pytest.raises((ProviderRejected, ProviderUnavailable)) as exc:
            action()
        errors.append(str(exc.value))
    logging.getLogger("callkaro").warning("echo %s", KEY)  # even a careless log line is masked
    text = "\n".join(errors) + "\n" + "\n".join(r.getMessage() for r in caplog.records)
    assert KEY not in text
    assert caplog.records  # the client did log


def test_format_schedule_at_in_the_account_zone():
    when = datetime(2026, 3, 1, 23, 45, tzinfo=ZoneInfo("UTC"))
    assert format_schedule_at(when, "Asia/Kolkata") == "2026-03-02T05:15:00"
    assert format_schedule_at(when, "UTC") == "2026-03-01T23:45:00"
