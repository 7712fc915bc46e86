"""Dashboard benchmark: 1,000,000 AI call logs (+200,000 human ones) in PostgreSQL.

Builds the daily roll-up first (``rollup_rebuild --all``, timed) and times the beat task's refresh. Then,
for today / 7 days / 30 days / all time: the live selectors without the roll-up, the whole page through
the Django test client cold (empty cache: closed days from the roll-up, today live) and warm, their query
counts, and ONE raw conditional-aggregation SQL query over the same rows as the baseline. Then the
streamed CSV export's time and peak memory. Prints the figures and writes them to docs/performance.md
under "## Dashboard".

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_h_bench REDIS_URL=redis://127.0.0.1:6379/9 \
        .venv/bin/python bench/bench_dashboard.py

The database named in DATABASE_URL is wiped and rebuilt from the models (no migrations). Options:
``--rows N`` (AI call logs, default 1,000,000), ``--no-write`` (do not touch docs/performance.md).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
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

from django.apps import apps  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from acefone.models import AcefoneCallLog  # noqa: E402
from callkaro.models import CallKaroAgent, CallKaroCallLog, CallKaroCampaign  # noqa: E402
from crm.models import Lead, Role  # noqa: E402
from reporting import selectors as dashboard  # noqa: E402
from reporting.periods import DashboardFilters, period_resolve  # noqa: E402
from reporting.services import rollup_refresh  # noqa: E402

PERIODS = ["today", "7d", "30d", "all"]
N_LEADS, N_MEMBERS, N_AGENTS, N_CAMPAIGNS, DAYS = 20_000, 20, 8, 20, 365


def ensure_database() -> None:
    """Create the benchmark database if it does not exist yet."""
    import psycopg

    db = connection.settings_dict
    try:
        connection.ensure_connection()
    except Exception:  # noqa: BLE001 - any failure: try creating it, then connect again
        with psycopg.connect(
            host=db["HOST"],
            port=db["PORT"] or 5432,
            user=db["USER"],
            password=db["PASSWORD"] or None,
            dbname="postgres",
            autocommit=True,
        ) as conn:
            conn.execute(f'CREATE DATABASE "{db["NAME"]}"')
        connection.ensure_connection()


def rebuild_schema() -> None:
    """Drop everything and create each model's table straight from the models (as --no-migrations does)."""
    with connection.cursor() as cur:
        cur.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    with connection.schema_editor() as editor:
        for model in apps.get_models():
            if model._meta.managed and not model._meta.proxy:
                editor.create_model(model)


def insert_series(model, n: int, exprs: dict[str, str]) -> None:
    """INSERT … SELECT FROM generate_series: ``exprs`` per column (``g`` is the row number); every
    other column gets its model default, so the seed keeps working as fields are added."""
    cols, values, params = [], [], []
    for f in model._meta.concrete_fields:
        if f.primary_key:
            continue
        cols.append(connection.ops.quote_name(f.column))
        if f.attname in exprs:
            values.append(exprs[f.attname])
        elif getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            values.append("now()")
        elif f.has_default() or not f.null:
            values.append("%s")
            default = f.get_default() if f.has_default() else ("" if f.empty_strings_allowed else None)
            params.append(f.get_db_prep_save(default, connection))
        else:
            values.append("NULL")
    sql = (
        f"INSERT INTO {model._meta.db_table} ({', '.join(cols)}) "
        f"SELECT {', '.join(values)} FROM generate_series(1, {n}) AS g"
    )
    with connection.cursor() as cur:
        cur.execute(sql, params)


def seed(rows: int) -> tuple[object, dict]:
    from django.contrib.auth.management import create_permissions

    from crm import services
    from crm.roles import sync_role_groups

    for app_config in apps.get_app_configs():  # what post_migrate would do
        create_permissions(app_config, verbosity=0)
    sync_role_groups()
    t0 = time.perf_counter()
    with connection.cursor() as cur:  # a bulk load: no need to wait for each commit's fsync
        cur.execute("SET synchronous_commit TO off")
        # Generated rows are consistent by construction: skip the per-row foreign-key triggers while loading.
        cur.execute("SET session_replication_role TO replica")
    members = [
        services.team_member_create(
            username=f"rep{i}", password="pw", name=f"Rep {i:02d}", role=Role.REP, acefone_agent_number=f"0602{i:06d}"
        )
        for i in range(N_MEMBERS)
    ]
    manager = services.team_member_create(username="boss", password="pw", name="Boss", role=Role.MANAGER)
    agents = [CallKaroAgent.objects.create(agent_id=f"agent-{i}", name=f"Agent {i}") for i in range(N_AGENTS)]
    campaigns = [
        CallKaroCampaign.objects.create(
            name=f"Campaign {i}", agent=agents[i % N_AGENTS], status="running", total_leads=20_000
        )
        for i in range(N_CAMPAIGNS)
    ]
    m0, a0, c0 = members[0].pk, agents[0].pk, campaigns[0].pk
    lead_m = m0
    insert_series(
        Lead,
        N_LEADS,
        {
            "name": "'Lead ' || g",
            "phone": "'+9198' || lpad(g::text, 8, '0')",
            "assigned_to_id": f"{lead_m} + (g %% {N_MEMBERS})",
            "created_at": "now()",
            "updated_at": "now()",
        },
    )
    lead0 = Lead.objects.order_by("pk").values_list("pk", flat=True).first()
    # created_at spread evenly over the last DAYS days; statuses in fixed proportions (g %% 20).
    status = (
        "CASE WHEN g %% 20 < 8 THEN 'completed' WHEN g %% 20 < 13 THEN 'no_answer' WHEN g %% 20 = 13 THEN 'busy' "
        "WHEN g %% 20 < 16 THEN 'failed' WHEN g %% 20 = 16 THEN 'cancelled' WHEN g %% 20 = 17 THEN 'unknown' "
        "WHEN g %% 20 = 18 THEN 'queued' ELSE 'in_progress' END"
    )
    common = {
        "lead_id": f"{lead0} + (g %% {N_LEADS})",
        "team_member_id": f"{m0} + (g %% {N_MEMBERS})",
        "to_number": "'+9198' || lpad((g %% 20000)::text, 8, '0')",
        "status": status,
        "duration_seconds": "CASE WHEN g %% 20 < 8 THEN 20 + (g * 7) %% 300 ELSE NULL END",
        # Oldest first, as auto_now_add writes them: the heap is in time order, as in production.
        "created_at": f"now() - interval '{DAYS} days' * (1 - g::float8 / {{n}}) - random() * interval '1 minute'",
        # Last touched when the call ended, a few minutes after it was created (what the refresh's sweep reads).
        "updated_at": f"now() - interval '{DAYS} days' * (1 - g::float8 / {{n}}) + interval '5 minutes'",
    }
    insert_series(
        CallKaroCallLog,
        rows,
        {
            **common,
            "created_at": common["created_at"].format(n=rows),
            "updated_at": common["updated_at"].format(n=rows),
            "agent_id": f"{a0} + (g %% {N_AGENTS})",
            "campaign_id": f"CASE WHEN g %% 10 < 3 THEN {c0} + (g %% {N_CAMPAIGNS}) ELSE NULL END",
            "converted": "CASE WHEN g %% 20 < 8 THEN (g %% 7 = 0) ELSE NULL END",
            "hangup_reason": (
                "CASE WHEN g %% 20 < 8 THEN 'CLIENT_INITIATED' WHEN g %% 20 < 14 THEN 'USER_UNAVAILABLE' "
                "WHEN g %% 20 < 16 THEN 'INVALID_PHONE_NUMBER' ELSE '' END"
            ),
            "transcript": "CASE WHEN g %% 20 < 8 THEN 'Agent: Hello. Customer: Hi, tell me more.' ELSE '' END",
            "recording_url": "CASE WHEN g %% 20 < 8 THEN 'https://rec.example/' || g || '.mp3' ELSE '' END",
        },
    )
    insert_series(
        AcefoneCallLog,
        rows // 5,
        {
            **common,
            "created_at": common["created_at"].format(n=rows // 5),
            "updated_at": common["updated_at"].format(n=rows // 5),
            "agent_number": "'0602000001'",
        },
    )
    with connection.cursor() as cur:
        cur.execute("SET session_replication_role TO DEFAULT")
        cur.execute("VACUUM ANALYZE")  # fresh statistics and visibility map, as autovacuum would give
    return manager, {"seed_seconds": time.perf_counter() - t0}


def build_rollup() -> dict:
    """The first fill, as an operator would run it, then one run of the beat task's refresh."""
    from io import StringIO

    from django.core.management import call_command

    from reporting.models import CallDailyRollup

    t = time.perf_counter()
    call_command("rollup_rebuild", "--all", stdout=StringIO())
    build = time.perf_counter() - t
    with connection.cursor() as cur:
        cur.execute("ANALYZE callkaro_calldailyrollup; ANALYZE callkaro_callrollupday")
    t = time.perf_counter()
    refreshed = rollup_refresh()
    refresh = time.perf_counter() - t
    info = {"rollup_seconds": build, "rollup_rows": CallDailyRollup.objects.count(), "refresh_seconds": refresh}
    info["refresh_days"] = refreshed["days"]
    print(
        f"roll-up built in {build:.1f} s ({info['rollup_rows']:,} rows); refresh task {refresh * 1000:.0f} ms "
        f"({refreshed['days']} days)",
        flush=True,
    )
    return info


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
        out.append(row)
        print(
            f"{key:>6}: {calls:>9,} calls | baseline 1 query {row['baseline_ms']:7.1f} ms | selectors "
            f"{row['selectors_ms']:7.1f} ms ({row['selector_queries']} q) | page cold {row['cold_ms']:7.1f} ms "
            f"({row['page_queries']} q) | page warm {row['warm_ms']:6.1f} ms "
            f"({row['warm_queries']} q)",
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


def render_section(rows: int, seed_info: dict, periods: list[dict], exports: list[dict]) -> str:
    """The "## Dashboard" section of docs/performance.md (Markdown)."""
    lines = [
        "## Dashboard",
        "",
        f"`bench/bench_dashboard.py`, run {timezone.now():%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores "
        f"({platform.python_implementation()} {platform.python_version()}, PostgreSQL "
        f"{connection.cursor().connection.info.server_version // 10000}). "
        f"{rows:,} Call Karo call logs and {rows // 5:,} Acefone call logs over {DAYS} days, "
        f"{N_MEMBERS} reps, {N_AGENTS} agents, {N_CAMPAIGNS} campaigns; seeded with generate_series in "
        f"{seed_info['seed_seconds']:.0f} s. Roll-up first fill (`rollup_rebuild --all`): "
        f"{seed_info['rollup_seconds']:.1f} s, {seed_info['rollup_rows']:,} rows; one run of the beat task "
        f"`rollup_refresh` ({seed_info['refresh_days']} days rebuilt, including the updated-since sweep): "
        f"{seed_info['refresh_seconds'] * 1000:.0f} ms. Median times.",
        "",
        "| period | calls | baseline: 1 raw aggregate query | live selectors, no roll-up | page, cold (queries) "
        "| page, warm (queries) |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in periods:
        lines.append(
            f"| {r['period']} | {r['calls']:,} | {r['baseline_ms']:.0f} ms | {r['selectors_ms']:.0f} ms "
            f"| {r['cold_ms']:.0f} ms ({r['page_queries']}) | {r['warm_ms']:.0f} ms ({r['warm_queries']}) |"
        )
    lines += [
        "",
        "| export | rows | size | time | rows/s | peak RSS growth |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for e in exports:
        lines.append(
            f"| {e['period']} | {e['rows']:,} | {e['mb']:.0f} MB | {e['seconds']:.1f} s "
            f"| {e['rows'] / e['seconds']:,.0f} | {e['rss_growth_mb']:.1f} MB |"
        )
    lines += ["", DOC_NOTES.strip(), ""]
    return "\n".join(lines) + "\n"


def write_doc(rows: int, seed_info: dict, periods: list[dict], exports: list[dict]) -> None:
    path = ROOT / "docs" / "performance.md"
    section = render_section(rows, seed_info, periods, exports)
    text = path.read_text() if path.exists() else "# Performance\n\n"
    pattern = re.compile(r"^## Dashboard\n.*?(?=^## |\Z)", re.S | re.M)
    text = pattern.sub(lambda _: section, text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + section
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)
    print(f"wrote {path.relative_to(ROOT)}")


DOC_NOTES = """
How to read it: *baseline* is one hand-written conditional-aggregation query (the KPI cards only) over
the period's AI rows. *Live selectors, no roll-up* is `dashboard_figures`: every widget's grouped query over
the call logs themselves, what the page cost before the roll-up. *Page, cold* is a full render with an
empty cache: one query finds the rolled-up days, three small grouped queries read the period from
`CallDailyRollup`, today's rows (an index range) are aggregated live, and campaign progress (all time) is
summed the same way (roll-up days plus today's calls of the latest campaigns). *Page, warm* differs only in
the campaign progress, cached for 15 s. Query counts include session, user, permissions, navigation and the
filter options; they do not depend on the row count. The bench asserts that the roll-up-backed KPI figures
equal the live ones for every period before timing them.

Choice: a maintained daily roll-up table (`reporting.services`; read by `reporting.rollup`), replacing the earlier
cache of closed days, whose first render missed the target for 30 days and all time. One row per local day
(`TIME_ZONE`) × provider × agent × team member × campaign × outcome bucket × hang-up reason, with calls,
connected, conversions and talk seconds: every widget is a sum over those rows, so a period's figures are
the roll-up's days plus today's live rows (`aggregates_merge`), and tests check them against the live
queries across midnight IST. Kept right three ways: a final-call hook marks the call's day dirty; the beat
task `reporting.rollup_refresh` (every 120 s) rebuilds dirty days, yesterday, days the beat
missed and days with call logs updated since the last build (bulk updates that run no hook), each day
rebuilt whole in one transaction from one grouped query per provider; and the reader counts any day that
is not built or is dirty live, so a late webhook shows at once and a figure is never stale. The price: a
migration, a first fill (`manage.py rollup_rebuild --all`, timed above), and the refresh's updated-since
sweep, a sequential scan of the call logs every 2 minutes (no index on `updated_at`). Changing
`TIME_ZONE` needs `rollup_rebuild --all`.

The export streams `values_list(...).iterator(chunk_size=2000)` (a server-side cursor on PostgreSQL)
through `csv.writer`, 500 lines per chunk, into a `StreamingHttpResponse`: memory stays flat whatever
the row count (compare the 30-day and all-time rows).
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--database-url", help="PostgreSQL database to wipe and use (else DATABASE_URL)")
    parser.add_argument("--json", action="store_true", help="print the figures as a last BENCH_RESULT line")
    args = parser.parse_args()
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
