"""A circuit breaker per provider, kept in the Django cache so every worker shares it.

closed -> open after N consecutive ProviderUnavailable -> half-open (one probe) after the
cool-down -> closed on the probe's success, open again on its failure.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"


class CircuitBreaker:
    def __init__(self, provider: str) -> None:
        self.provider = provider
        self._prefix = f"telephony:breaker:{provider}"

    @property
    def threshold(self) -> int:
        return int(getattr(settings, "TELEPHONY_BREAKER_THRESHOLD", 5))

    @property
    def cooldown(self) -> float:
        return float(getattr(settings, "TELEPHONY_BREAKER_COOLDOWN", 30))

    def _key(self, name: str) -> str:
        return f"{self._prefix}:{name}"

    def state(self) -> str:
        opened_at = cache.get(self._key("opened_at"))
        if opened_at is None:
            return CLOSED
        if time.time() - float(opened_at) < self.cooldown:
            return OPEN
        return HALF_OPEN

    def is_open(self) -> bool:
        return self.state() == OPEN

    def failures(self) -> int:
        return int(cache.get(self._key("failures")) or 0)

    def allow_request(self) -> bool:
        """Closed: yes. Open: no. Half-open: yes for exactly one caller, the probe."""
        state = self.state()
        if state == CLOSED:
            return True
        if state == OPEN:
            return False
        # cache.add is atomic on every backend we use, so only one worker wins the probe.
        return cache.add(self._key("probe"), 1, timeout=max(1, int(self.cooldown)))

    def record_success(self) -> None:
        cache.delete_many([self._key("failures"), self._key("opened_at"), self._key("probe")])

    def record_failure(self) -> None:
        key = self._key("failures")
        cache.add(key, 0, timeout=None)
        try:
            failures = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=None)
            failures = 1
        if self.state() == HALF_OPEN or failures >= self.threshold:
            self._open()

    def _open(self) -> None:
        cache.set(self._key("opened_at"), time.time(), timeout=None)
        cache.delete(self._key("probe"))

    def reset(self) -> None:
        self.record_success()


def breaker_for(provider: str) -> CircuitBreaker:
    return CircuitBreaker(provider)
