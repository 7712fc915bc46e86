"""Dashboard benchmark: 1.2M call logs by default (1,000,000 AI + 200,000 human) in PostgreSQL; ``--scale``.

Builds the daily roll-up first (``rollup_rebuild --all``, timed) and times the beat task's refresh. Then,
for today / 7 days / 30 days / all time: the live selectors without the roll-up, the whole page through
the Django test client cold (empty cache: closed days from the roll-up, today live) and warm, their query
counts, and ONE raw conditional-aggregation SQL query over the same rows as the baseline. Then the
streamed CSV export's time and peak memory. Prints the figures and writes them to docs/performance.md
under "## Dashboard".

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_h_bench REDIS_URL=redis://127.0.0.1:6379/9 \
        .venv/bin/python bench/bench_dashboard.py

The database named in DATABASE_URL is wiped and rebuilt from the models (no migrations). Options:
``--scale N`` (call logs in all, default 1,200,000; ``--scale 10000000`` for the 10M target: about 6 GB,
seeded in about 4 minutes here, 10 minutes with the exports), ``--rows N`` (AI call logs only), ``--no-write``.
The funnel (lead rows and their call timeline, filled by the seed as the data migrations do) and the
leaderboard (the roll-up's days plus today live) are timed cold per period too: neither has a cache.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# ``--database-url URL`` (as run_all.py passes it) must be known before Django is set up below.
if "--database-url" in sys.argv:
    os.environ["DATABASE_URL"] = sys.argv[sys.argv.index("--database-url") + 1]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-production-0123456789abcdef")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("SESSION_COOKIE_SECURE", "false")
os.environ.setdefault("CSRF_COOKIE_SECURE", "false")
os.environ.setdefault("DEBUG", "false")

import django  # noqa: E402

django.setup()

from django.conf import settings as _settings  # noqa: E402

# No collectstatic manifest is needed to render the page here.
_settings.STORAGES = {
    **_settings.STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Team members are made through the service; a fast hasher keeps the seed about the call logs.
_settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# The bench's own cache: Redis when REDIS_URL is given (as in production), else process memory.
_settings.CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": os.environ["REDIS_URL"]}
    if os.environ.get("REDIS_URL")
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}

from django.conf import settings  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.dashboard_doc import render_section, write_doc  # noqa: E402
from bench.dashboard_seed import build_rollup, ensure_database, rebuild_schema, seed  # noqa: E402
from reporting import selectors as dashboard  # noqa: E402
from reporting.funnel import funnel_report, leaderboard  # noqa: E402
from reporting.periods import DashboardFilters, period_resolve  # noqa: E402

PERIODS = ["today", "7d", "30d", "all"]


def timed(fn, repeat: int = 5) -> tuple[float, int]:
    """Median milliseconds and the query count of one run."""
    times, count = [], 0
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as ctx:
            t = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t) * 1000)
        count = len(ctx.captured_queries)
    return statistics.median(times), count


BASELINE_SQL = """
SELECT count(*), count(*) FILTER (WHERE status = 'completed' OR duration_seconds > 0),
       count(*) FILTER (WHERE status = 'completed'), count(*) FILTER (WHERE status IN ('no_answer', 'busy')),
       count(*) FILTER (WHERE status = 'failed'), sum(duration_seconds), count(*) FILTER (WHERE converted)
FROM callkaro_callkarocalllog WHERE created_at >= %s AND created_at < %s
"""


def bench_periods(manager) -> list[dict]:
    client = Client()
    client.force_login(manager.user)
    url = reverse("reporting:dashboard")
    out = []
    for key in PERIODS:
        period = period_resolve(key)
        filters = DashboardFilters()
        start = period.start or timezone.now() - timezone.timedelta(days=100 * 365)

        def baseline(start=start, end=period.end):
            with connection.cursor() as cur:
                cur.execute(BASELINE_SQL, [start, end])
                cur.fetchall()

        def cold_page(key=key):
            cache.clear()
            response = client.get(url, {"period": key})
            assert response.status_code == 200, (response.status_code, response.content[:300])

        def warm_page(key=key):
            assert client.get(url, {"period": key}).status_code == 200

        repeat = 3 if key == "all" else 5
        live = dashboard.dashboard_figures(period, filters)
        cache.clear()
        assert vars(dashboard.dashboard_figures_cached(period, filters).kpis) == vars(live.kpis), key  # roll-up = live
        calls = live.kpis.calls
        row = {"period": key, "calls": calls}
        row["baseline_ms"], _ = timed(baseline, repeat)
        row["selectors_ms"], row["selector_queries"] = timed(
            lambda period=period, filters=filters: dashboard.dashboard_figures(period, filters), repeat
        )
        row["cold_ms"], row["page_queries"] = timed(cold_page, repeat)
        client.get(url, {"period": key})  # fill the cache
        row["warm_ms"], row["warm_queries"] = timed(warm_page, 10)
        row["funnel_ms"], row["funnel_queries"] = timed(lambda period=period: funnel_report(period), repeat)
        row["board_ms"], row["board_queries"] = timed(lambda period=period: leaderboard(period), repeat)
        out.append(row)
        print(
            f"{key:>6}: {calls:>9,} calls | baseline 1 query {row['baseline_ms']:7.1f} ms | selectors "
            f"{row['selectors_ms']:7.1f} ms ({row['selector_queries']} q) | page cold {row['cold_ms']:7.1f} ms "
            f"({row['page_queries']} q) | page warm {row['warm_ms']:6.1f} ms "
            f"({row['warm_queries']} q) | funnel {row['funnel_ms']:6.1f} ms ({row['funnel_queries']} q) "
            f"| leaderboard {row['board_ms']:6.1f} ms ({row['board_queries']} q)",
            flush=True,
        )
    return out


def bench_export(manager) -> list[dict]:
    client = Client()
    client.force_login(manager.user)
    out = []
    for key in ["30d", "all"]:
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        t = time.perf_counter()
        response = client.get(reverse("reporting:dashboard_export"), {"period": key})
        lines = size = 0
        for chunk in response.streaming_content:
            lines += chunk.count(b"\n")
            size += len(chunk)
        seconds = time.perf_counter() - t
        grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        out.append(
            {
                "period": key,
                "rows": lines - 1,
                "seconds": seconds,
                "mb": size / 1e6,
                "rss_growth_mb": grown,
                "peak_rss_mb": peak,
            }
        )
        print(
            f"export {key:>4}: {lines - 1:>9,} rows, {size / 1e6:6.1f} MB in {seconds:6.1f} s "
            f"({(lines - 1) / seconds:,.0f} rows/s); peak RSS grew {grown:.1f} MB (process peak {peak:.0f} MB)",
            flush=True,
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scale", type=int, default=1_200_000, help="call logs in all: 5/6 Call Karo, 1/6 Acefone (10000000 works)"
    )
    parser.add_argument("--rows", type=int, help="Call Karo call logs (overrides --scale)")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--database-url", help="PostgreSQL database to wipe and use (else DATABASE_URL)")
    parser.add_argument("--json", action="store_true", help="print the figures as a last BENCH_RESULT line")
    args = parser.parse_args()
    args.rows = args.rows or args.scale * 5 // 6
    if connection.vendor != "postgresql":
        sys.exit(
            "Set DATABASE_URL to a PostgreSQL database (it is wiped): postgres://postgres@127.0.0.1:5432/h_h_bench"
        )
    settings.DEBUG = False
    print(
        f"Rebuilding schema in {connection.settings_dict['NAME']} and seeding {args.rows:,} AI call logs …", flush=True
    )
    ensure_database()
    rebuild_schema()
    manager, seed_info = seed(args.rows)
    print(f"seeded in {seed_info['seed_seconds']:.1f} s", flush=True)
    seed_info.update(build_rollup())
    periods = bench_periods(manager)
    exports = bench_export(manager)
    if not args.no_write:
        write_doc(args.rows, seed_info, periods, exports)
    if args.json:
        import json

        section = render_section(args.rows, seed_info, periods, exports)
        result = {"rows": args.rows, "seed": seed_info, "periods": periods, "exports": exports, "section": section}
        print("BENCH_RESULT " + json.dumps(result, default=str), flush=True)


if __name__ == "__main__":
    main()
