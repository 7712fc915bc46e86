"""Call panel render time with 100,000 leads assigned to one rep, through the Django test client.

Renders ``/call-panel/`` as that rep: the first page, a deep page, a name search, and the panel with
a lead selected (its call history shown); median and p95 of N renders each, with the query count.
Baseline, same run: the page's own lead query (count + the 20 rows of the first page) on its own.

    .venv/bin/python bench/bench_call_panel.py --database-url postgres://postgres@127.0.0.1:5432/crm_bench_panel
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import django_setup, emit, percentile  # noqa: E402


def seed(leads: int):
    from django.db import connection

    from callkaro.models import CallKaroAgent, CallKaroCallLog
    from crm.models import Lead, Role
    from crm.tests.factories import make_member

    rep = make_member(Role.REP, username="bench-panel-rep", name="Bench panel rep")
    make_member(Role.REP, username="bench-panel-other", name="Other rep")
    started = time.perf_counter()
    batch: list[Lead] = []
    for i in range(leads):
        batch.append(Lead(name=f"Panel lead {i}", phone=f"+9195{i:08d}", assigned_to=rep))
        if len(batch) == 5000:
            Lead.objects.bulk_create(batch)
            batch = []
    Lead.objects.bulk_create(batch)
    selected = Lead.objects.filter(assigned_to=rep).order_by("-created_at", "-id").first()
    agent, _ = CallKaroAgent.objects.get_or_create(agent_id="bench-agent", defaults={"name": "Bench agent"})
    CallKaroCallLog.objects.bulk_create(
        [
            CallKaroCallLog(lead=selected, team_member=rep, agent=agent, to_number=str(selected.phone), status=s)
            for s in ["completed", "no_answer", "failed"] * 10
        ]
    )
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE")
    return rep, selected, time.perf_counter() - started


def timed(fn, n: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    fn()  # warm
    times, queries = [], 0
    for _ in range(n):
        with CaptureQueriesContext(connection) as ctx:
            t = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t) * 1000)
        queries = len(ctx.captured_queries)
    return {"median_ms": statistics.median(times), "p95_ms": percentile(times, 95), "queries": queries, "n": n}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--renders", type=int, default=30)
    args = parser.parse_args()
    if not args.database_url.startswith("postgres"):
        sys.exit("--database-url must name a migrated PostgreSQL database")
    django_setup(args.database_url)
    from django.core.cache import cache
    from django.test import Client

    from crm.selectors import LeadFilters, lead_search

    rep, selected, seed_seconds = seed(args.leads)
    cache.clear()
    print(f"seeded {args.leads:,} leads for one rep in {seed_seconds:.1f} s", flush=True)
    client = Client()
    client.force_login(rep.user)
    last_page = (args.leads + 19) // 20

    def page(params):
        def render():
            response = client.get("/call-panel/", params)
            assert response.status_code == 200, response.status_code

        return render

    def baseline():
        qs = lead_search(rep.user, LeadFilters())
        qs.count()
        list(qs[:20])

    cases = [
        ("baseline: lead count + first 20 rows", baseline),
        ("first page", page({})),
        ("page 2,500 (deep)", page({"page": min(2500, last_page)})),
        ("search by name", page({"q": "Panel lead 4242"})),
        ("lead selected (history shown)", page({"lead": selected.pk})),
    ]
    rows = []
    for name, fn in cases:
        r = {"case": name, **timed(fn, args.renders)}
        rows.append(r)
        print(
            f"{name:>36}: median {r['median_ms']:7.1f} ms  p95 {r['p95_ms']:7.1f} ms  {r['queries']} queries",
            flush=True,
        )
    emit({"leads": args.leads, "renders": args.renders, "seed_seconds": seed_seconds, "rows": rows})


if __name__ == "__main__":
    main()
