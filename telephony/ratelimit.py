"""How often one user may start calls: a fixed window per user in the shared cache (every worker sees it)."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone


def call_start_rate_limited(user_id: int) -> int | None:
    """Count one call start; returns the seconds to wait when the user is over the limit, else None."""
    limit, window = settings.CALL_START_RATE_LIMIT, settings.CALL_START_RATE_WINDOW
    now = int(timezone.now().timestamp())
    bucket = now // window
    key = f"callstart:rate:{user_id}:{bucket}"
    cache.add(key, 0, timeout=window + 5)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=window + 5)
        count = 1
    if count > limit:
        return window - (now % window) or 1
    return None
