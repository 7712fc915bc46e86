"""The "## Dashboard" section of docs/performance.md, from one run of ``bench_dashboard.py``."""

from __future__ import annotations

import os
import platform
import re
from pathlib import Path

from django.db import connection
from django.utils import timezone

from bench.dashboard_seed import DAYS, N_AGENTS, N_CAMPAIGNS, N_MEMBERS

ROOT = Path(__file__).resolve().parent.parent


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
        f"{seed_info['seed_seconds']:.0f} s (the leads' call timeline backfill, one UPDATE … FROM per call-log "
        f"table: {seed_info.get('timeline_seconds', 0):.1f} s). Roll-up first fill (`rollup_rebuild --all`): "
        f"{seed_info['rollup_seconds']:.1f} s, {seed_info['rollup_rows']:,} rows; one run of the beat task "
        f"`rollup_refresh` ({seed_info['refresh_days']} days rebuilt, including the updated-since sweep): "
        f"{seed_info['refresh_seconds'] * 1000:.0f} ms. Median times.",
        "",
        "| period | calls | baseline: 1 raw aggregate query | live selectors, no roll-up | page, cold (queries) "
        "| page, warm (queries) | funnel (queries) | leaderboard (queries) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in periods:
        lines.append(
            f"| {r['period']} | {r['calls']:,} | {r['baseline_ms']:.0f} ms | {r['selectors_ms']:.0f} ms "
            f"| {r['cold_ms']:.0f} ms ({r['page_queries']}) | {r['warm_ms']:.0f} ms ({r['warm_queries']}) "
            f"| {r.get('funnel_ms', 0):.0f} ms ({r.get('funnel_queries', '-')}) "
            f"| {r.get('board_ms', 0):.0f} ms ({r.get('board_queries', '-')}) |"
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
Scale: `--scale N` sets the call logs in all (default 1,200,000: 5/6 Call Karo, 1/6 Acefone); the 10M target
is `bench/run_all.py --only dashboard --scale 10000000` (about 6 GB; seeded in about 4 minutes on this
machine, 10 minutes with the exports; its figures: `docs/dashboard-10m.md`).
The funnel (by Meta form, campaign and ad) and the rep leaderboard are timed over the same rows, cold (their
queries have no cache). The funnel reads lead rows only: the call timeline on `crm.Lead` (`first_call_at`,
`first_human_call_at`, `first_connect_at`, written at dial and at the end of a call, only ever earlier) gives
its counts and medians in ONE grouped query (`percentile_cont` in SQL); the seed fills it with the data
migrations' set-based backfill. Every bench lead arrived today, so each period's funnel covers all 20,000. The
leaderboard sums `CallDailyRollup` for clean past days and counts today (and any dirty day) live, as the KPI
cards do.

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
