"""Fixed-window counters in the shared cache, that degrade to this process when the cache is down.

Every limiter in the product (call starts, rejected webhooks) counts here. With Redis unreachable a
limiter must neither answer 500 nor let everything through: it counts in this process instead,
under a limit the caller chooses (conservative for call starts), and logs the outage once until
the cache answers again.
"""

from __future__ import annotations

import threading

from django.core.cache import cache
from django.utils import timezone

from .cache_fallback import cache_degraded, cache_recovered

#: A bucket kept in this process while the cache is down: key -> count.
_local: dict[str, int] = {}
_local_lock = threading.Lock()
_LOCAL_MAX_KEYS = 10_000


def _local_incr(key: str, bucket_prefix: str) -> int:
    with _local_lock:
        if len(_local) > _LOCAL_MAX_KEYS:
            for stale in [k for k in _local if not k.startswith(bucket_prefix)]:
                del _local[stale]
            if len(_local) > _LOCAL_MAX_KEYS:
                _local.clear()
        _local[key] = _local.get(key, 0) + 1
        return _local[key]


def _local_get(key: str) -> int:
    with _local_lock:
        return _local.get(key, 0)


def _bucket(key: str, window: int) -> tuple[str, int, int]:
    now = int(timezone.now().timestamp())
    return f"ratelimit:{key}:{now // window}", now, window - (now % window) or 1


def window_hit(
    key: str, *, limit: int, window: int, fallback_limit: int | None = None, feature: str = ""
) -> int | None:
    """Count one hit on ``key``; the seconds to wait when over ``limit`` in this window, else None.

    With the cache down the count is this process's own and ``fallback_limit`` applies (default
    ``limit``); the outage is logged once per ``feature``.
    """
    full, _, wait = _bucket(key, window)
    feature = feature or key.split(":", 1)[0]
    try:
        cache.add(full, 0, timeout=window + 5)
        try:
            count = cache.incr(full)
        except ValueError:  # evicted between add and incr
            cache.set(full, 1, timeout=window + 5)
            count = 1
    except Exception as exc:  # noqa: BLE001 - Redis down: count here instead of failing the request
        cache_degraded(feature, exc)
        count = _local_incr(full, full.rsplit(":", 1)[0])
        limit = limit if fallback_limit is None else fallback_limit
    else:
        cache_recovered(feature)
    return wait if count > limit else None


def window_full(key: str, *, limit: int, window: int, feature: str = "") -> int | None:
    """Without counting: the seconds to wait when ``key`` has used its ``limit`` in this window, else None."""
    full, _, wait = _bucket(key, window)
    try:
        count = cache.get(full) or 0
    except Exception as exc:  # noqa: BLE001
        cache_degraded(feature or key.split(":", 1)[0], exc)
        count = _local_get(full)
    return wait if count >= limit else None
