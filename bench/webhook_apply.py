"""The apply side of the webhook benchmark: a real worker drains while wrk posts, and this watches it.

Figures: events applied per second in steady state (the middle of the run, sampled twice a
second), the apply lag (``processed_at - received_at`` of each row: delivery stored to call log
updated, the same transaction), the backlog when wrk stops and how long it takes to drain, and
the events lost (a 2xx answer with no stored row, or a stored row never applied).
"""

from __future__ import annotations

import threading
import time
from typing import Any

from django.db import connection


def _tables() -> tuple[str, str]:
    from callkaro.models import CallKaroCallLog
    from telephony.models import ProviderWebhookEvent

    return ProviderWebhookEvent._meta.db_table, CallKaroCallLog._meta.db_table


def _counts(lo: int, hi: int) -> tuple[int, int]:
    """(stored, applied-or-stale) events of calls ``lo``…``hi``, excluding duplicates."""
    events, _ = _tables()
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT count(*), count(*) FILTER (WHERE outcome <> 'pending') FROM {events} "  # noqa: S608 - table names
            "WHERE call_log_id BETWEEN %s AND %s AND dedup_key <> ''",
            [lo, hi],
        )
        stored, done = cur.fetchone()
    return int(stored), int(done)


class ApplyWatcher:
    """Samples stored/applied counts every half second in a thread while wrk runs."""

    def __init__(self, lo: int, hi: int) -> None:
        self.lo, self.hi = lo, hi
        self.samples: list[tuple[float, int, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                stored, done = _counts(self.lo, self.hi)
                self.samples.append((time.monotonic(), stored, done))
                self._stop.wait(0.5)
        finally:
            connection.close()

    def __enter__(self) -> ApplyWatcher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def steady_rates(self) -> dict[str, float]:
        """Stored and applied per second over the middle 60 % of the run (no ramp-up, no tail)."""
        if len(self.samples) < 4:
            return {"stored_per_second": 0.0, "applied_per_second": 0.0}
        n = len(self.samples)
        a, b = self.samples[n // 5], self.samples[max(n // 5 + 1, n - n // 5 - 1)]
        seconds = max(b[0] - a[0], 1e-6)
        return {"stored_per_second": (b[1] - a[1]) / seconds, "applied_per_second": (b[2] - a[2]) / seconds}


def drain_and_account(lo: int, hi: int, *, answered_2xx: int, timeout: float = 120) -> dict[str, Any]:
    """After wrk stops: the backlog, the time to drain it, the lag percentiles, and what was lost."""
    stored, done = _counts(lo, hi)
    backlog = stored - done
    started = time.monotonic()
    while done < stored and time.monotonic() - started < timeout:
        time.sleep(0.2)
        stored, done = _counts(lo, hi)
    drained_in = time.monotonic() - started
    events, calls = _tables()
    with connection.cursor() as cur:
        cur.execute(
            "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY lag), percentile_cont(0.99) WITHIN GROUP "
            "(ORDER BY lag), max(lag) FROM (SELECT extract(epoch FROM processed_at - received_at) AS lag "
            f"FROM {events} WHERE call_log_id BETWEEN %s AND %s AND dedup_key <> '' "
            "AND processed_at IS NOT NULL) t",
            [lo, hi],
        )
        p50, p99, worst = cur.fetchone()
        cur.execute(
            f"SELECT outcome, count(*) FROM {events} WHERE call_log_id BETWEEN %s AND %s "  # noqa: S608
            "GROUP BY outcome",
            [lo, hi],
        )
        outcomes = dict(cur.fetchall())
        cur.execute(
            f"SELECT count(*) FROM {calls} l WHERE l.id BETWEEN %s AND %s AND l.status = "  # noqa: S608
            f"'completed' AND EXISTS (SELECT 1 FROM {events} e WHERE e.call_log_id = l.id)",
            [lo, hi],
        )
        (calls_completed,) = cur.fetchone()
    rows_total = sum(outcomes.values())
    return {
        "backlog_at_end": backlog,
        "drained_in_seconds": drained_in,
        "pending_after_drain": stored - done,
        "lag_p50_ms": float(p50 or 0) * 1000,
        "lag_p99_ms": float(p99 or 0) * 1000,
        "lag_max_ms": float(worst or 0) * 1000,
        "outcomes": outcomes,
        "calls_completed": int(calls_completed),
        "answered_2xx": answered_2xx,
        "lost": max(0, answered_2xx - rows_total) + (stored - done),
    }
