"""Property tests: shuffled and duplicated deliveries end where the forward-only rule says; fuzzed
requests never cause a 500 and never change anything without the secret."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from crm.tests.factories import LeadFactory
from telephony.models import ProviderWebhookEvent
from telephony.tests.webhook_samples import (
    AF_SECRET,
    CK_SECRET,
    acefone_hangup,
    call_ended,
    final_receivers_only,
    make_af_log,
    make_ck_log,
    post_json,
)

CK_URL, AF_URL = "/callkaro-webhook/", "/acefone-webhook/"
HYPOTHESIS = hsettings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
#: (hangup_reason, duration, the status it means)
CK_OUTCOMES = [
    ("CLIENT_INITIATED", 120, "completed"),
    ("USER_UNAVAILABLE", 0, "no_answer"),
    ("USER_REJECTED", 0, "no_answer"),
    ("INVALID_PHONE_NUMBER", 0, "failed"),
    ("DELETED_SCH_CALL_ONE", 0, "cancelled"),
    ("SOMETHING_NEW", 5, "unknown"),
]
#: Acefone: (call_status, answered_agent_number, billsec, hangup_cause, status)
AF_OUTCOMES = [
    ("answered", "0602000004", "163", "NORMAL_CLEARING", "completed"),
    ("missed", "", "0", "NO_ANSWER", "no_answer"),
    ("missed", "0602000004", "0", "USER_BUSY", "busy"),
]


@pytest.fixture(autouse=True)
def _secrets(settings, monkeypatch):
    settings.CALLKARO_WEBHOOK_SECRET = CK_SECRET
    settings.ACEFONE_WEBHOOK_SECRET = AF_SECRET
    final_receivers_only(monkeypatch)


def _ck_script(log, outcomes: list[int], noise: bool):
    """One call_ended per provider try; the headline try's outcome is where the call must end."""
    events = []
    for try_count, index in enumerate(outcomes):
        reason, duration, _ = CK_OUTCOMES[index]
        body = call_ended(log.pk, callSid=f"sid-{log.pk}", try_count=try_count, hangup_reason=reason)
        body["data"]["call_duration"] = duration
        events.append((CK_URL, CK_SECRET, body))
        if noise and CK_OUTCOMES[index][2] != "unknown":  # an odd extra event for the same try
            extra = call_ended(log.pk, callSid=f"sid-{log.pk}", try_count=try_count, hangup_reason="UNKNOWN")
            events.append((CK_URL, CK_SECRET, extra))
    # The headline is the latest try that reached the person, else the latest try (telephony.attempts).
    headline = max(range(len(outcomes)), key=lambda t: (CK_OUTCOMES[outcomes[t]][2] == "completed", t))
    expected = CK_OUTCOMES[outcomes[headline]][2], headline
    return events, expected


def _af_script(log, index: int):
    call_status, agent, billsec, cause, status = AF_OUTCOMES[index]
    answered = {"event": "agent_answered", "call_id": f"af-{log.pk}", "custom_identifier": str(log.pk)}
    hangup = acefone_hangup(
        log.pk, call_id=f"af-{log.pk}", call_status=call_status, answered_agent_number=agent, billsec=billsec
    )
    hangup["hangup_cause"] = cause
    events = [(AF_URL, AF_SECRET, hangup)] + ([(AF_URL, AF_SECRET, answered)] if agent else [])
    return events, status


@pytest.mark.django_db
@HYPOTHESIS
@given(
    ck_calls=st.lists(
        st.tuples(st.lists(st.integers(0, len(CK_OUTCOMES) - 1), min_size=1, max_size=3), st.booleans()),
        min_size=1,
        max_size=3,
    ),
    af_calls=st.lists(st.integers(0, len(AF_OUTCOMES) - 1), max_size=2),
    data=st.data(),
)
def test_shuffled_duplicated_events_end_in_the_forward_only_state(ck_calls, af_calls, data):
    lead = LeadFactory()
    client = Client()
    deliveries, expectations = [], []
    for outcomes, noise in ck_calls:
        log = make_ck_log(lead)
        events, expected = _ck_script(log, outcomes, noise)
        deliveries += events
        expectations.append((log, expected))
    for index in af_calls:
        log = make_af_log(lead)
        events, expected = _af_script(log, index)
        deliveries += events
        expectations.append((log, (expected, None)))
    copies = data.draw(st.lists(st.sampled_from(deliveries), max_size=len(deliveries) * 2), label="duplicates")
    order = data.draw(st.permutations(deliveries + copies), label="order")
    for url, secret, body in order:
        response = post_json(client, url, body, token=secret)
        assert response.status_code == 200, response.content
    for log, (status, try_count) in expectations:
        log.refresh_from_db()
        assert log.status == status, (type(log).__name__, order)
        if try_count is not None:
            assert log.try_count == try_count
    assert not ProviderWebhookEvent.objects.filter(outcome="failed").exists()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
    max_leaves=20,
)
known_keys = st.sampled_from(
    ["event", "data", "call_id", "status", "duration", "callSid", "hangup_reason", "call_metadata", "try_count",
     "call_duration", "time", "custom_identifier", "call_status", "billsec", "uuid", "start_stamp", "post_call"]
)  # fmt: skip
provider_like = st.dictionaries(known_keys, json_values, max_size=8)
bodies = st.one_of(
    st.binary(max_size=200),
    json_values.map(lambda v: json.dumps(v).encode()),
    provider_like.map(lambda v: json.dumps(v).encode()),
    provider_like.map(lambda v: json.dumps({"event": "call_ended", "data": v}).encode()),
)
content_types = st.sampled_from(["application/json", "application/json; charset=utf-8", "text/plain", "", "x/y+json"])
tokens = st.one_of(st.none(), st.text(max_size=30), st.just(CK_SECRET[:-1]), st.just(CK_SECRET + "x"))
urls = st.sampled_from([CK_URL, AF_URL])
header_values = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=0x2FFF), max_size=40)


@pytest.mark.django_db
@HYPOTHESIS
@given(url=urls, body=bodies, content_type=content_types, token=tokens, extra=header_values, in_query=st.booleans())
def test_fuzz_without_the_secret_never_500_and_never_changes_state(
    url, body, content_type, token, extra, in_query, lead
):
    ck, af = make_ck_log(lead), make_af_log(lead)
    headers = {"X-Extra": extra}
    target = url
    if token is not None:
        if in_query:
            target = f"{url}?token={token}"
        else:
            headers["X-Webhook-Token"] = token
    response = Client().post(target, body, content_type=content_type, headers=headers)
    assert response.status_code in {400, 401, 413, 415}
    for log in (ck, af):
        log.refresh_from_db()
        assert (log.status, log.duration_seconds, log.provider_call_id) == ("initiated", None, None)
    assert not ProviderWebhookEvent.objects.filter(is_authenticated=True).exists()


@pytest.mark.django_db
@HYPOTHESIS
@given(url=urls, body=bodies, content_type=content_types)
def test_fuzz_with_the_secret_never_500(url, body, content_type, lead):
    make_ck_log(lead)
    secret = CK_SECRET if url == CK_URL else AF_SECRET
    response = Client().post(url, body, content_type=content_type, headers={"X-Webhook-Token": secret})
    assert response.status_code < 500, response.content
