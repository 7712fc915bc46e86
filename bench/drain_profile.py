"""Per applied event: SQL statements and CPU of the batch drain, in this process (no worker, no wrk).

Seeds live Call Karo calls, stores one pending ``call_ended`` event for each (as the webhook does,
the parsed event kept on the row), then runs ``drain_batch`` until none is pending, counting the SQL
statements (the drain's and its after-commit lead follow-up's) and the process CPU time.

    .venv/bin/python bench/drain_profile.py --database-url postgres://postgres@127.0.0.1:5432/crm_x

The database must exist and be migrated. ``--profile`` prints the top cProfile entries.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import django_setup  # noqa: E402


def store_events(lo: int, hi: int) -> int:
    """One pending, authenticated event per call ``lo``…``hi``, stored as the webhook stores it."""
    from bench.bench_webhook import body_template
    from telephony.event_json import event_to_json
    from telephony.models import ProviderWebhookEvent
    from telephony.registry import get_provider

    template = body_template().replace("%%", "%")
    provider, rows = get_provider("callkaro"), []
    for pk in range(lo, hi + 1):
        body = template.replace('"%s"', f'"CK{pk:09d}"').replace("%d", str(pk))
        (event,) = provider.parse_webhook(json.loads(body))
        rows.append(
            ProviderWebhookEvent(
                provider="callkaro",
                body=body,
                event=event_to_json(event),
                is_authenticated=True,
                call_log_id=event.call_log_id,
                provider_call_id=event.provider_call_id,
                dedup_key=event.dedup_key[:200],
            )
        )
    ProviderWebhookEvent.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


def measure(calls: int, profile: bool) -> dict:
    from django.db import connection

    from bench.bench_webhook import seed
    from telephony.drain import drain_batch

    lo, hi = seed(calls)
    # The first batch warms caches and imports; it is not counted.
    warm = min(hi, lo + 199)
    store_events(lo, warm)
    drain_batch()
    store_events(warm + 1, hi)
    counts: dict[str, int] = {}
    profiler = cProfile.Profile() if profile else None
    kinds: dict[str, int] = {}

    def count(execute, sql, params, many, context):
        word = "EXECUTEMANY " + sql.split()[0].upper() if many else sql.split()[0].upper()
        kinds[word] = kinds.get(word, 0) + 1
        return execute(sql, params, many, context)

    plain_commit = connection._commit

    def commit() -> None:  # a transaction's BEGIN and COMMIT: not cursor statements, counted as two
        kinds["BEGIN+COMMIT"] = kinds.get("BEGIN+COMMIT", 0) + 2
        plain_commit()

    connection._commit = commit
    with connection.execute_wrapper(count):
        cpu, wall = time.process_time(), time.perf_counter()
        if profiler:
            profiler.enable()
        while True:
            batch = drain_batch()
            if not batch:
                break
            for key, value in batch.items():
                counts[key] = counts.get(key, 0) + value
        if profiler:
            profiler.disable()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    applied = sum(counts.values())
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
    return {
        "events": applied,
        "outcomes": counts,
        "statements_per_event": sum(kinds.values()) / max(applied, 1),
        "statement_kinds": kinds,
        "cpu_ms_per_event": cpu * 1000 / max(applied, 1),
        "wall_ms_per_event": wall * 1000 / max(applied, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--calls", type=int, default=2200)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--batch", type=int, default=200, help="events per batch (a live drain's are often fewer)")
    args = parser.parse_args()
    redis = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/7")
    django_setup(args.database_url, DJANGO_SETTINGS_MODULE="bench.settings", REDIS_URL=redis, CELERY_BROKER_URL=redis)
    from django.conf import settings

    settings.TELEPHONY_WEBHOOK_DRAIN_BATCH = args.batch
    result = measure(args.calls, args.profile)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
