"""Benchmark (not a test): launch a 100,000-lead campaign on PostgreSQL; time and peak memory.

Compares ``campaign_launch`` (one audience query, streamed by phone so duplicates sit side by side,
whose rows carry the other checks' facts: do-not-call, other campaigns, the standing eligibility
rules; call rows written with PostgreSQL ``COPY`` a 2,000-row chunk at a time) with a raw
``bulk_create`` of the same rows built from a fully loaded list. Each variant runs in its own
process so that its peak RSS is its own.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_d .venv/bin/python bench/bench_campaign_fanout.py [--leads 100000]

It builds a scratch database (``test_<name>``, schema from the models) and drops it afterwards.
Call Karo's campaign creation is replaced by a stub: the bench measures our side only.

Measured here (2 cores shared with other jobs, local PostgreSQL, 100,000 leads):

    variant      rows  seconds   rows/s  peak RSS MB
    raw        100000    20.17     4958        363.7   (all rows built in memory, then bulk_create)
    launch     100000     8.70    11490         93.6   (streamed, checked, COPY in 2,000-row chunks)

At 20,000 leads the launch went from 6.07 s (raw 4.43 s: 1.37x) to 2.19 s (raw 4.38 s: 0.50x): the
checks no longer re-read each chunk's leads, calls and policy, and each row is a tuple, not a model.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _django(db_url: str | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings_test")
    if db_url:
        os.environ["DATABASE_URL"] = db_url
    import django

    django.setup()


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_variant(variant: str) -> dict:
    """In a child process: run one variant against the scratch database, report figures as JSON."""
    _django()
    from django.db import connection

    from callkaro.campaigns import services as campaigns
    from callkaro.campaigns.audience import LeadFilter
    from callkaro.campaigns.inputs import CampaignSettings
    from callkaro.models import CallKaroAgent, CallKaroCallLog, CallKaroCampaign
    from crm.models import Lead, TeamMember

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE callkaro_callkarocalllog, callkaro_callkarocampaign RESTART IDENTITY CASCADE")
    agent = CallKaroAgent.objects.get(agent_id="bench-agent")
    manager = TeamMember.objects.get(name="Bench manager")
    base_rss = _peak_rss_mb()
    started = time.perf_counter()
    if variant == "launch":
        campaigns._remote_campaign_create = lambda *, name, agent: "bench-batch"  # no HTTP in a bench
        draft = campaigns.campaign_draft_save(
            user=manager.user,
            campaign_settings=CampaignSettings(name="Bench", agent=agent),
            audience={"kind": "filter", "filter": LeadFilter().as_json()},
        )
        campaign = campaigns.campaign_launch(user=manager.user, campaign=draft)
        rows = campaign.total_leads
    else:
        campaign = CallKaroCampaign.objects.create(name="Raw", agent=agent, status="running")
        leads = list(Lead.objects.values_list("id", "phone", "assigned_to_id"))  # everything in memory
        objs = [
            CallKaroCallLog(
                lead_id=lead_id,
                team_member_id=assignee,
                to_number=str(phone),
                status="scheduled",
                campaign=campaign,
                agent=agent,
                metadata_sent={"lead_id": lead_id, "campaign_id": campaign.pk},
            )
            for lead_id, phone, assignee in leads
        ]
        CallKaroCallLog.objects.bulk_create(objs, batch_size=2000)
        rows = len(objs)
    elapsed = time.perf_counter() - started
    return {
        "variant": variant,
        "rows": rows,
        "seconds": round(elapsed, 2),
        "rows_per_second": round(rows / elapsed),
        "peak_rss_mb": round(_peak_rss_mb(), 1),
        "rss_before_mb": round(base_rss, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--variant", choices=["launch", "raw"], help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help="scratch PostgreSQL database, created and dropped (else test_<name>)")
    parser.add_argument("--json", action="store_true", help="print the figures as a last BENCH_RESULT line")
    parser.add_argument("--variants", default="raw,launch", help="raw,launch (1M: launch only; raw holds it all)")
    args = parser.parse_args()
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    if args.variant:
        print(json.dumps(run_variant(args.variant)))
        return

    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL database (the bench creates and drops test_<name>).")
    _django()
    from django.conf import settings
    from django.test.utils import setup_databases, teardown_databases

    settings.DATABASES["default"].setdefault("TEST", {})["MIGRATE"] = False
    if args.database_url:  # use the named database itself as the scratch database
        settings.DATABASES["default"]["TEST"]["NAME"] = settings.DATABASES["default"]["NAME"]
    old = setup_databases(verbosity=0, interactive=False)
    try:
        from django.db import connection

        from bench.dashboard_seed import insert_series
        from callkaro.models import CallKaroAgent
        from crm.models import Lead, Role
        from crm.tests.factories import make_member

        manager = make_member(Role.MANAGER, username="bench-manager", name="Bench manager")
        CallKaroAgent.objects.create(agent_id="bench-agent", name="Bench agent")
        started = time.perf_counter()
        insert_series(
            Lead,
            args.leads,
            {
                "name": "'Lead ' || g",
                "phone": "'+9196' || lpad(g::text, 8, '0')",
                "assigned_to_id": f"CASE WHEN g %% 2 = 1 THEN {manager.pk} ELSE NULL END",
            },
        )
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        seed_seconds = time.perf_counter() - started
        print(f"seeded {args.leads} leads in {seed_seconds:.1f}s", flush=True)
        db = settings.DATABASES["default"]
        url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
        env = {**os.environ, "DATABASE_URL": url}
        results = []
        for variant in [v for v in ("raw", "launch") if v in args.variants.split(",")]:
            out = subprocess.run(
                [sys.executable, __file__, "--variant", variant], env=env, capture_output=True, text=True, check=True
            )
            results.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(f"{'variant':<8} {'rows':>8} {'seconds':>8} {'rows/s':>8} {'peak RSS MB':>12}")
        for r in results:
            print(
                f"{r['variant']:<8} {r['rows']:>8} {r['seconds']:>8} {r['rows_per_second']:>8} {r['peak_rss_mb']:>12}"
            )
        if args.json:
            result = {"leads": args.leads, "seed_seconds": seed_seconds, "variants": results}
            print("BENCH_RESULT " + json.dumps(result), flush=True)
    finally:
        teardown_databases(old, verbosity=0)


if __name__ == "__main__":
    main()
