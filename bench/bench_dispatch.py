"""Dispatch throughput: calls claimed and sent to the Call Karo sandbox per second, one worker at concurrency 2.

The sandbox is the app's own (PROVIDER_SANDBOX=true) served by gunicorn on loopback; the worker is a
real Celery worker (prefork, concurrency 2) on the Redis broker (db 7). The bench process plays beat:
it runs ``scheduler_tick`` back to back (production ticks every CAMPAIGN_SCHEDULER_INTERVAL_SECONDS),
which claims due rows (scheduled → queued, SKIP LOCKED) and enqueues one ``telephony.call_dispatch``
per row; the worker claims each (queued → dispatching), runs the pre-dial checks and POSTs it to the
sandbox. The clock stops when no row is scheduled, queued or dispatching. Baseline, same worker, same
run: N trivial tasks (Celery's built-in ``celery.accumulate``) sent and completed.

The sandbox posts no simulated webhooks (``SANDBOX_WEBHOOK_DELIVERY=off``), so the worker does dispatch
work only and each sandbox answer is just the API's.

    .venv/bin/python bench/bench_dispatch.py --database-url postgres://postgres@127.0.0.1:5432/crm_bench_dispatch
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    bench_env,
    django_setup,
    emit,
    free_port,
    start_gunicorn,
    start_worker,
    stop,
    wait_until,
)


def seed(calls: int) -> None:
    from callkaro.models import CallKaroAgent, CallKaroCallLog
    from crm.models import Lead, Role
    from crm.tests.factories import make_member

    rep = make_member(Role.REP, username="bench-dispatch-rep", name="Bench dispatch rep")
    agent, _ = CallKaroAgent.objects.get_or_create(agent_id="bench-agent", defaults={"name": "Bench agent"})
    leads = Lead.objects.bulk_create(
        [Lead(name=f"Dispatch lead {i}", phone=f"+9196{i:08d}", assigned_to=rep) for i in range(calls)]
    )
    CallKaroCallLog.objects.bulk_create(
        [
            CallKaroCallLog(
                lead=lead,
                team_member=rep,
                agent=agent,
                to_number=str(lead.phone),
                status="scheduled",
                metadata_sent={"lead_id": lead.pk},
            )
            for lead in leads
        ],
        batch_size=2000,
    )


def trivial_tasks(n: int) -> dict:
    from celery import current_app
    from celery.result import ResultSet

    # Warm the pool's processes first.
    ResultSet([current_app.send_task("celery.accumulate", args=(0,)) for _ in range(20)]).join(timeout=60)
    started = time.perf_counter()
    results = ResultSet([current_app.send_task("celery.accumulate", args=(i,)) for i in range(n)])
    results.join(timeout=300, propagate=True)
    seconds = time.perf_counter() - started
    return {"tasks": n, "seconds": seconds, "per_second": n / seconds}


def dispatch(n: int, timeout: float) -> dict:
    from django.db.models import Count

    from callkaro.campaigns.scheduler import scheduler_tick
    from callkaro.models import CallKaroCallLog
    from telephony.models import SandboxRequest

    pending = {"scheduled", "queued", "dispatching"}
    started = time.perf_counter()
    ticks = 0
    deadline = started + timeout
    while time.perf_counter() < deadline:
        scheduler_tick()
        ticks += 1
        if not CallKaroCallLog.objects.filter(status__in=pending).exists():
            break
        time.sleep(0.2)
    seconds = time.perf_counter() - started
    statuses = dict(CallKaroCallLog.objects.values("status").annotate(n=Count("id")).values_list("status", "n"))
    sent = SandboxRequest.objects.filter(provider="callkaro", path__contains="/call/outbound").count()
    done = n - sum(statuses.get(s, 0) for s in pending)
    return {
        "calls": n,
        "finished": done,
        "sent_to_sandbox": sent,
        "seconds": seconds,
        "per_second": done / seconds,
        "ticks": ticks,
        "statuses": statuses,
        "timed_out": done < n,
    }


#: Where a dial's CPU goes, by the function that spends it (cumulative, so the parts overlap the whole).
PROFILE_PARTS = {
    "the one read (compiled once)": ("telephony/dial_checks.py", "dial_row"),
    "pre-dial checks (no query)": ("telephony/dial_checks.py", "dial_skip_reason"),
    "the provider's request (HTTP)": ("telephony/http.py", "request"),
    "the result's UPDATE": ("telephony/services.py", "_started"),
    "the lead's timeline (first dial)": ("telephony/lead_timeline.py", "lead_timeline_note"),
}


def dial_profile(n: int) -> dict:
    """``n`` more calls dialled in this process against the live sandbox: CPU per dial, queries per dial,
    and where the CPU goes (cProfile on the CPU clock, cumulative per part). The sandbox's own CPU is not in it."""
    import cProfile
    import pstats

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from callkaro.models import CallKaroCallLog
    from crm.models import Lead
    from telephony.services import call_dispatch

    template = CallKaroCallLog.objects.filter(status="initiated").select_related("lead").first()
    leads = Lead.objects.bulk_create(
        [
            Lead(name=f"Profiled lead {i}", phone=f"+9197{i:08d}", assigned_to_id=template.lead.assigned_to_id)
            for i in range(n + 20)
        ]
    )
    rows = CallKaroCallLog.objects.bulk_create(
        [
            CallKaroCallLog(
                lead=lead, team_member_id=template.team_member_id, agent_id=template.agent_id,
                to_number=str(lead.phone), status="queued", metadata_sent={"lead_id": lead.pk},
            )
            for lead in leads
        ]
    )  # fmt: skip
    for row in rows[:20]:  # warm: the compiled read, the config cache, the HTTP session
        call_dispatch(provider="callkaro", call_log_id=row.pk)
    profiler = cProfile.Profile(time.process_time)  # CPU, not wall: the sandbox's wait is not ours
    cpu = time.process_time()
    with CaptureQueriesContext(connection) as ctx:
        for row in rows[20:]:
            assert call_dispatch(provider="callkaro", call_log_id=row.pk) == "initiated"
    cpu_ms = (time.process_time() - cpu) * 1000 / n
    queries = len(ctx.captured_queries) / n
    again = CallKaroCallLog.objects.bulk_create(  # the same leads once more (their first dial is done), profiled
        [
            CallKaroCallLog(
                lead_id=row.lead_id, team_member_id=row.team_member_id, agent_id=row.agent_id,
                to_number=row.to_number, status="queued", metadata_sent={"lead_id": row.lead_id},
            )
            for row in rows[20:]
        ]
    )  # fmt: skip
    CallKaroCallLog.objects.filter(pk__in=[r.pk for r in rows]).update(status="failed")  # ended unreached: no gap
    profiler.enable()
    for row in again:  # the split, not the total: cProfile slows what it measures
        call_dispatch(provider="callkaro", call_log_id=row.pk)
    profiler.disable()
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    whole = sum(v[3] for k, v in stats.items() if k[0].endswith("telephony/services.py") and k[2] == "call_dispatch")
    parts = {}
    for label, (path, name) in PROFILE_PARTS.items():
        spent = sum(v[3] for k, v in stats.items() if k[0].endswith(path) and k[2] == name)
        parts[label] = round(100 * spent / whole, 1) if whole else 0.0
    parts["the rest (the claim's UPDATE, breaker, glue)"] = round(100 - sum(parts.values()), 1)
    return {"dials": n, "cpu_ms_per_dial": cpu_ms, "queries_per_dial": queries, "share_of_dial": parts}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--trivial", type=int, default=2000)
    parser.add_argument("--timeout", type=float, default=180)
    parser.add_argument("--concurrency", type=int, default=2, help="the worker's processes (a dial waits on HTTP)")
    args = parser.parse_args()
    if not args.database_url.startswith("postgres"):
        sys.exit("--database-url must name a migrated PostgreSQL database")
    port = free_port()
    common = {
        "PROVIDER_SANDBOX": "true",
        "CALLKARO_BASE_URL": f"http://127.0.0.1:{port}/sandbox/callkaro",
        "SANDBOX_WEBHOOK_DELIVERY": "off",  # the sandbox answers the API only: no webhook work in the run
        "CAMPAIGN_SCHEDULER_BATCH": "500",
        # The sandbox answers 404 "Agent does not exist" for an agent its fake account lacks.
        "SANDBOX_CALLKARO_AGENTS": "bench-agent",
    }
    django_setup(args.database_url, **common)
    from django.conf import settings
    from django.core.cache import cache
    from django.db import connection

    seed(args.calls)
    cache.clear()  # breaker, rate limits and scheduler lock from earlier runs (Redis db 7 is the bench's)
    connection.close()
    print(f"seeded {args.calls:,} scheduled calls", flush=True)
    server = start_gunicorn(bench_env(args.database_url, **common), port, workers=3)
    worker = start_worker(bench_env(args.database_url, **common), concurrency=args.concurrency)
    try:
        from celery import current_app

        current_app.conf.broker_url = settings.CELERY_BROKER_URL
        if not wait_until(lambda: bool(current_app.control.ping(timeout=1)), timeout=60, interval=0.5):
            raise RuntimeError("the Celery worker did not answer within 60 s")
        baseline = trivial_tasks(args.trivial)
        print(
            f"baseline: {baseline['tasks']:,} trivial tasks in {baseline['seconds']:.1f} s "
            f"= {baseline['per_second']:.0f} tasks/s",
            flush=True,
        )
        result = dispatch(args.calls, args.timeout)
        print(
            f"dispatch: {result['finished']:,}/{result['calls']:,} calls claimed and sent in {result['seconds']:.1f} s "
            f"= {result['per_second']:.1f} calls/s ({result['sent_to_sandbox']:,} requests reached the sandbox; "
            f"statuses {result['statuses']})",
            flush=True,
        )
        stop(worker)
        profile = dial_profile(50 if args.calls < 500 else 300)
        print(
            f"in process, one dial (the sandbox's CPU not counted): {profile['cpu_ms_per_dial']:.2f} ms CPU, "
            f"{profile['queries_per_dial']:.1f} queries; share of the dial: {profile['share_of_dial']}",
            flush=True,
        )
    finally:
        stop(worker)
        stop(server)
        cache.clear()
    emit(
        {
            "baseline": baseline,
            "dispatch": result,
            "ratio": result["per_second"] / baseline["per_second"],
            "concurrency": args.concurrency,
            "profile": profile,
        }
    )


if __name__ == "__main__":
    main()
