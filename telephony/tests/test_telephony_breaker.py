"""The circuit breaker: shared state in the cache, open after N failures, one half-open probe."""

from __future__ import annotations

import pytest
import time_machine
from django.core.cache import cache

from telephony.breaker import CLOSED, HALF_OPEN, OPEN, breaker_for


@pytest.fixture(autouse=True)
def _clean_cache(settings):
    settings.TELEPHONY_BREAKER_THRESHOLD = 3
    settings.TELEPHONY_BREAKER_COOLDOWN = 30
    cache.clear()
    yield
    cache.clear()


def test_opens_after_threshold_consecutive_failures():
    breaker = breaker_for("callkaro")
    for _ in range(2):
        breaker.record_failure()
    assert breaker.state() == CLOSED and breaker.allow_request()
    breaker.record_failure()
    assert breaker.state() == OPEN and breaker.is_open()
    assert not breaker.allow_request()
    assert breaker_for("acefone").state() == CLOSED  # per provider


def test_success_resets_the_count():
    breaker = breaker_for("callkaro")
    breaker.record_failure()
    breaker.record_failure()
    breaker.record_success()
    breaker.record_failure()
    assert breaker.state() == CLOSED


def test_half_open_allows_one_probe_then_closes_on_success():
    breaker = breaker_for("callkaro")
    with time_machine.travel(1_800_000_000, tick=False) as traveller:
        for _ in range(3):
            breaker.record_failure()
        traveller.shift(31)
        assert breaker.state() == HALF_OPEN
        assert breaker.allow_request() is True
        assert breaker_for("callkaro").allow_request() is False  # another worker: no second probe
        breaker.record_success()
        assert breaker.state() == CLOSED and breaker.allow_request()


def test_failed_probe_reopens():
    breaker = breaker_for("callkaro")
    with time_machine.travel(1_800_000_000, tick=False) as traveller:
        for _ in range(3):
            breaker.record_failure()
        traveller.shift(31)
        assert breaker.allow_request()
        breaker.record_failure()
        assert breaker.state() == OPEN
        traveller.shift(29)
        assert breaker.is_open()
