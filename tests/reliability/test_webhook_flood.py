"""Flooding the webhook endpoints (issue 17 §3): what unauthenticated requests may cost.

Measured before the fix: each request with a wrong token stored up to 64 KiB (about 20 MiB per 300
requests). Now a rejected request keeps a small truncated record, a client IP rejected too often is
answered 429 before anything is read or written, and this holds with the cache down too.
"""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache
from django.test import Client, override_settings

from metaleads.models import MetaWebhookRejection
from telephony.models import ProviderWebhookEvent
from telephony.tests.webhook_samples import CK_SECRET, LONG_TRANSCRIPT, call_ended, post_json

pytestmark = pytest.mark.django_db

#: Rejected requests sent in the flood, and the most any one of them may leave in the database.
FLOOD_REQUESTS = 300
MAX_BYTES_PER_REJECTED = 1024
#: A cache that is down: Redis at a port nothing listens on.
CACHE_DOWN = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
}


@pytest.fixture(autouse=True)
def _clean_cache(settings):
    settings.CALLKARO_WEBHOOK_SECRET = CK_SECRET
    settings.ACEFONE_WEBHOOK_SECRET = "af-secret"
    settings.META_APP_SECRET = "meta-app-secret"
    cache.clear()
    yield
    cache.clear()


def _stored_bytes(row: ProviderWebhookEvent) -> int:
    text = row.body + json.dumps(row.headers) + row.error + json.dumps(row.event) + row.dedup_key
    return len(text.encode())


def _big_body() -> dict:
    body = call_ended(1, transcription=LONG_TRANSCRIPT[:60_000])
    assert len(json.dumps(body)) > 60_000
    return body


def test_a_flood_of_rejected_requests_leaves_a_small_record_each(client, settings):
    settings.WEBHOOK_REJECTED_RATE_LIMIT = 1_000_000  # measure the record, not the limit
    body = _big_body()
    headers = {f"X-Junk-{i}": "j" * 500 for i in range(20)}
    for i in range(FLOOD_REQUESTS):
        url = "/callkaro-webhook/" if i % 2 else "/acefone-webhook/"
        response = post_json(client, url, body, token=f"wrong-{i}", headers=headers, commit=False)
        assert response.status_code == 401
    rows = list(ProviderWebhookEvent.objects.all())
    assert len(rows) == FLOOD_REQUESTS
    assert max(_stored_bytes(r) for r in rows) <= MAX_BYTES_PER_REJECTED
    assert all(not any(k.startswith("X-Junk") for k in r.headers) for r in rows)
    assert all("wrong-" not in json.dumps(r.headers) for r in rows)


def test_a_client_rejected_too_often_gets_429_before_anything_is_written(client, settings):
    settings.WEBHOOK_REJECTED_RATE_LIMIT = 10
    body = _big_body()
    answers = [
        post_json(
            client, "/callkaro-webhook/", body, token="wrong", commit=False, REMOTE_ADDR="203.0.113.9"
        ).status_code
        for _ in range(50)
    ]
    assert answers == [401] * 10 + [429] * 40
    assert ProviderWebhookEvent.objects.count() == 10
    limited = post_json(client, "/acefone-webhook/", body, token="wrong", commit=False, REMOTE_ADDR="203.0.113.9")
    assert limited.status_code == 429 and int(limited["Retry-After"]) > 0  # both providers share the count
    # Another client, and the provider itself with the right secret, are not affected.
    other = post_json(client, "/callkaro-webhook/", body, token="wrong", commit=False, REMOTE_ADDR="203.0.113.10")
    assert other.status_code == 401
    good = post_json(client, "/callkaro-webhook/", call_ended(None), token=CK_SECRET, REMOTE_ADDR="198.51.100.1")
    assert good.status_code == 200


def test_the_limit_uses_the_client_ip_behind_trusted_proxies(client, settings):
    settings.WEBHOOK_REJECTED_RATE_LIMIT = 3
    settings.TRUSTED_PROXY_COUNT = 1
    for client_address, expected in [("203.0.113.1", [401, 401, 401, 429]), ("203.0.113.2", [401])]:
        got = [
            post_json(
                client,
                "/callkaro-webhook/",
                {"x": 1},
                token="wrong",
                commit=False,
                REMOTE_ADDR="10.0.0.1",
                HTTP_X_FORWARDED_FOR=client_address,
            ).status_code
            for _ in expected
        ]
        assert got == expected
    assert set(ProviderWebhookEvent.objects.values_list("remote_addr", flat=True)) == {"203.0.113.1", "203.0.113.2"}


def test_the_limit_holds_with_the_cache_down(client, settings):
    """Redis unreachable: no 500, the limit is counted in this process instead."""
    settings.WEBHOOK_REJECTED_RATE_LIMIT = 5
    with override_settings(CACHES=CACHE_DOWN):
        answers = [
            post_json(
                client, "/callkaro-webhook/", {"x": 1}, token="wrong", commit=False, REMOTE_ADDR="203.0.113.77"
            ).status_code
            for _ in range(8)
        ]
    assert answers == [401] * 5 + [429] * 3


def test_a_flood_of_bad_meta_signatures_is_limited_and_small(settings):
    settings.WEBHOOK_REJECTED_RATE_LIMIT = 20
    meta = Client(enforce_csrf_checks=True)
    body = json.dumps({"object": "page", "entry": [{"id": "x" * 60_000}]}).encode()
    headers = {"X-Hub-Signature-256": "sha256=" + "0" * 64}
    answers = [
        meta.post("/meta-leads-webhook/", body, content_type="application/json", headers=headers).status_code
        for _ in range(30)
    ]
    assert answers == [403] * 20 + [429] * 10
    rows = list(MetaWebhookRejection.objects.all())
    assert len(rows) == 20
    assert max(len(r.body_prefix.encode()) + len(r.reason.encode()) for r in rows) <= MAX_BYTES_PER_REJECTED
