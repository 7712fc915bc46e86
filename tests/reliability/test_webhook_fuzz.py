"""Webhook fuzzing at the battery's scale, beyond ``telephony/tests/test_webhook_properties.py``.

That module fuzzes random bodies; here the bodies are *real* provider envelopes with fields
mutated, the headers and methods are fuzzed too, and the secret is presented in odd ways.
The invariants: never a 5xx; without the right secret nothing changes and nothing is stored as
trusted; with it, a call only ever moves forward to a valid status.
"""

from __future__ import annotations

import json

import pytest
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from telephony.models import ProviderWebhookEvent
from telephony.status import CallStatus, can_transition
from telephony.tests.webhook_samples import (
    AF_SECRET,
    CK_SECRET,
    acefone_hangup,
    call_ended,
    final_receivers_only,
    make_af_log,
    make_ck_log,
)

pytestmark = pytest.mark.django_db

CK_URL, AF_URL = "/callkaro-webhook/", "/acefone-webhook/"
FUZZ = hsettings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40)
    | st.sampled_from(["", "0", "-1", "1e309", "NaN", "2026-13-45 99:99:99", "\x00", "\ufffd", "+91 98-76"])
)  # fmt: skip
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
CK_FIELDS = ["callSid", "hangup_reason", "call_duration", "time", "try_count", "call_metadata", "transcription",
             "recordingUrl", "post_call", "conversion_status", "to", "batchId", "name"]  # fmt: skip
AF_FIELDS = ["call_id", "uuid", "custom_identifier", "call_status", "billsec", "duration", "hangup_cause",
             "answered_agent_number", "start_stamp", "end_stamp", "call_to_number", "recording_url",
             "event"]  # fmt: skip
ck_mutations = st.dictionaries(st.sampled_from(CK_FIELDS), values, min_size=1, max_size=5)
af_mutations = st.dictionaries(st.sampled_from(AF_FIELDS), values, min_size=1, max_size=5)
# Not "cookie": Django's test client parses that header itself and cannot encode a value beyond latin-1 (a
# real server never receives one: HTTP headers are bytes), so it would crash the client, not the app.
header_names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=20).filter(lambda n: n != "cookie")
header_values = st.text(
    alphabet=st.characters(min_codepoint=32, max_codepoint=0xFFFF, exclude_categories=["Cs"]), max_size=60
)
content_types = st.sampled_from(
    ["application/json", "application/json; charset=utf-16", "application/JSON", "application/x-www-form-urlencoded",
     "multipart/form-data; boundary=x", "application/vnd.api+json", "text/json", ";;", "application/json;"]
)  # fmt: skip


@pytest.fixture(autouse=True)
def _secrets(settings, monkeypatch):
    settings.CALLKARO_WEBHOOK_SECRET = CK_SECRET
    settings.ACEFONE_WEBHOOK_SECRET = AF_SECRET
    final_receivers_only(monkeypatch)


def _body(url: str, ck, af, mutation: dict, wrap_list: bool) -> bytes:
    if url == CK_URL:
        body = call_ended(ck.pk, callSid=f"sid-{ck.pk}")
        body["data"].update(mutation)
    else:
        body = acefone_hangup(af.pk, call_id=f"af-{af.pk}", custom_identifier=str(af.pk))
        body.update(mutation)
    return json.dumps([body, body] if wrap_list else body, allow_nan=True).encode()


def _snapshot(*logs) -> list[tuple]:
    for log in logs:
        log.refresh_from_db()
    return [(log.status, log.duration_seconds, log.provider_call_id, log.raw_status) for log in logs]


@FUZZ
@given(
    url=st.sampled_from([CK_URL, AF_URL]),
    ck_mutation=ck_mutations,
    af_mutation=af_mutations,
    wrap_list=st.booleans(),
    token=st.one_of(
        st.none(),
        st.sampled_from(["", " ", CK_SECRET.upper(), AF_SECRET[:-1], f" {CK_SECRET}", f"{AF_SECRET}\t"]),
        header_values,
    ),
    cross=st.booleans(),
)
def test_real_envelopes_with_a_wrong_secret_change_nothing(
    url, ck_mutation, af_mutation, wrap_list, token, cross, lead
):
    """A near-miss secret (or the *other* provider's) on a plausible body is still refused."""
    ck, af = make_ck_log(lead), make_af_log(lead)
    before = _snapshot(ck, af)
    if cross:  # the other provider's valid secret must not open this door
        token = AF_SECRET if url == CK_URL else CK_SECRET
    mutation = ck_mutation if url == CK_URL else af_mutation
    headers = {} if token is None else {"X-Webhook-Token": token}
    body = _body(url, ck, af, mutation, wrap_list)
    response = Client().post(url, body, content_type="application/json", headers=headers)
    assert response.status_code in {400, 401, 413, 415}, response.content
    assert _snapshot(ck, af) == before
    assert not ProviderWebhookEvent.objects.filter(is_authenticated=True).exists()


@FUZZ
@given(
    url=st.sampled_from([CK_URL, AF_URL]),
    ck_mutation=ck_mutations,
    af_mutation=af_mutations,
    wrap_list=st.booleans(),
    start=st.sampled_from([CallStatus.INITIATED, CallStatus.IN_PROGRESS, CallStatus.UNKNOWN, CallStatus.COMPLETED]),
)
def test_mutated_real_envelopes_with_the_secret_never_500_and_only_move_forward(
    url, ck_mutation, af_mutation, wrap_list, start, lead
):
    ck, af = make_ck_log(lead, status=start), make_af_log(lead, status=start)
    secret = CK_SECRET if url == CK_URL else AF_SECRET
    response = Client().post(
        url, _body(url, ck, af, ck_mutation if url == CK_URL else af_mutation, wrap_list),
        content_type="application/json", headers={"X-Webhook-Token": secret},
    )  # fmt: skip
    assert response.status_code in {200, 400}, response.content
    for log in (ck, af):
        log.refresh_from_db()
        assert log.status in CallStatus.values
        assert log.status == start or can_transition(start, log.status), (start, log.status)
    assert not ProviderWebhookEvent.objects.filter(outcome="failed", error__startswith="Traceback").exists()


@FUZZ
@given(
    url=st.sampled_from([CK_URL, AF_URL]),
    method=st.sampled_from(["get", "put", "patch", "delete", "options", "head", "post"]),
    content_type=content_types,
    headers=st.dictionaries(header_names, header_values, max_size=4),
    length=st.one_of(st.none(), st.sampled_from(["-1", "abc", "99999999999", "0", "1e3", ""])),
    with_secret=st.booleans(),
    in_query=st.booleans(),
)
def test_fuzzed_methods_headers_and_lengths_never_500(
    url, method, content_type, headers, length, with_secret, in_query, lead
):
    ck, af = make_ck_log(lead), make_af_log(lead)
    trusted = ProviderWebhookEvent.objects.filter(is_authenticated=True).count()  # examples share the test's DB
    secret = CK_SECRET if url == CK_URL else AF_SECRET
    body = _body(url, ck, af, {}, False)
    reserved = {"x-webhook-token", "content-type", "content-length"}
    headers = {k: v for k, v in headers.items() if k.lower() not in reserved}
    target = url
    if with_secret and in_query:
        target = f"{url}?token={secret}"
    elif with_secret:
        headers["X-Webhook-Token"] = secret
    extra = {} if length is None else {"CONTENT_LENGTH": length}
    kwargs = {"content_type": content_type} if method not in {"get", "head", "options", "delete"} else {}
    response = getattr(Client(), method)(target, body if kwargs else None, headers=headers, **kwargs, **extra)
    assert response.status_code < 500, (method, response.status_code, response.content[:200])
    if method != "post":
        assert response.status_code == 405
    if not with_secret:
        assert _snapshot(ck, af) == [("initiated", None, None, "")] * 2
        assert ProviderWebhookEvent.objects.filter(is_authenticated=True).count() == trusted
