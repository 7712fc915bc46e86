"""Webhook ingestion benchmark: gunicorn serving the real app on PostgreSQL + Redis, loaded by wrk.

Three targets served by the same gunicorn in the same run, each at 32 concurrent connections:
a bare view that answers 200, a minimal view that parses the JSON and does one indexed UPDATE of
the call row (both from ``bench/views.py``, mounted only under bench.settings), and the real
``/callkaro-webhook/?token=…``. Every request posts a real ``call_ended`` body (the shape of
``tests/fixtures/providers/callkaro_call_ended.json``) for an existing, live call, with that call's callSid
(saved on the call, as a dispatch does), so each one is a first delivery that finishes a call.

    .venv/bin/python bench/bench_webhook.py --database-url postgres://postgres@127.0.0.1:5432/crm_bench_webhook

The database must exist and be migrated (run_all.py does both). Options: ``--seconds`` per target,
``--workers`` (gunicorn), ``--connections``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    WEBHOOK_SECRET,
    bench_env,
    django_setup,
    emit,
    free_port,
    start_gunicorn,
    start_worker,
    stop,
    wait_until,
)
from bench.cpu import cpu_ms_per, cpu_seconds  # noqa: E402
from bench.webhook_apply import ApplyWatcher, drain_and_account  # noqa: E402

#: The documented ``call_ended`` shape, shared with the tests (a path inside the repository).
SAMPLE = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "providers" / "callkaro_call_ended.json"

LUA = r"""
local lo, hi, nthreads, tag = %(lo)d, %(hi)d, %(threads)d, "%(tag)s"
local template = [==[%(template)s]==]
local headers = {["Content-Type"] = "application/json"}
local counter = 0
local n_setup = 0
function setup(thread)
  thread:set("tid", n_setup)
  n_setup = n_setup + 1
end
function request()
  local id = lo + ((counter * nthreads + tid) %% (hi - lo + 1))
  counter = counter + 1
  local body = string.format(template, string.format("CK%%09d", id), id)
  return wrk.format("POST", nil, headers, body)
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %%d, "duration_us": %%d, "p50_us": %%d, "p90_us": %%d, "p99_us": %%d, ' ..
    '"max_us": %%d, "mean_us": %%.1f, "connect_errors": %%d, "read_errors": %%d, "write_errors": %%d, ' ..
    '"status_errors": %%d, "timeouts": %%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean, e.connect, e.read, e.write, e.status, e.timeout))
end
"""


def body_template() -> str:
    """The sample body as a Lua format string: ``%s`` is the callSid, ``%d`` the call log id."""
    payload = json.loads(SAMPLE.read_text(encoding="utf-8"))
    data = payload["data"]
    data["callSid"] = "__SID__"
    data["call_metadata"]["call_log_id"] = 987654321
    data["time"] = time.strftime("%Y-%m-%d %H:%M:%S")
    text = json.dumps(payload).replace("%", "%%")
    return text.replace('"__SID__"', '"%s"').replace("987654321", "%d")


def seed(calls: int) -> tuple[int, int]:
    """Live Call Karo calls to finish; returns the first and last id."""
    from django.db.models import CharField, Value
    from django.db.models.functions import Cast, Concat, LPad

    from callkaro.models import CallKaroAgent, CallKaroCallLog
    from crm.models import Lead, Role
    from crm.tests.factories import make_member

    rep = make_member(Role.REP, username="bench-webhook-rep", name="Bench webhook rep")
    agent, _ = CallKaroAgent.objects.get_or_create(agent_id="bench-agent", defaults={"name": "Bench agent"})
    leads = Lead.objects.bulk_create(
        [Lead(name=f"Webhook lead {i}", phone=f"+9197{i:08d}", assigned_to=rep) for i in range(1000)]
    )
    rows = CallKaroCallLog.objects.bulk_create(
        [
            CallKaroCallLog(
                lead=leads[i % len(leads)],
                team_member=rep,
                agent=agent,
                to_number=str(leads[i % len(leads)].phone),
                status="in_progress",
                metadata_sent={"lead_id": leads[i % len(leads)].pk},
            )
            for i in range(calls)
        ],
        batch_size=5000,
    )
    # As after a dispatch: the call knows its Call Karo callSid, which the webhook carries back.
    CallKaroCallLog.objects.filter(pk__gte=rows[0].pk).update(
        provider_call_id=Concat(Value("CK"), LPad(Cast("id", CharField()), 9, Value("0")))
    )
    return rows[0].pk, rows[-1].pk


def wrk(url: str, *, lo: int, hi: int, seconds: int, connections: int, threads: int, tag: str) -> dict:
    script = LUA % {"lo": lo, "hi": hi, "threads": threads, "tag": tag, "template": body_template()}
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(script)
    try:
        out = subprocess.run(
            [
                "wrk",
                f"-t{threads}",
                f"-c{connections}",
                f"-d{seconds}s",
                "--timeout",
                "10s",
                "-s",
                fh.name,
                url,
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            check=True,
        )
    finally:
        os.unlink(fh.name)
    match = re.search(r"^WRK_JSON (.*)$", out.stdout, re.M)
    if not match:
        raise RuntimeError(f"wrk printed no result: {out.stdout[-500:]} {out.stderr[-500:]}")
    r = json.loads(match.group(1))
    seconds_run = r["duration_us"] / 1e6
    return {
        "requests": r["requests"],
        "rps": r["requests"] / seconds_run,
        "p50_ms": r["p50_us"] / 1000,
        "p90_ms": r["p90_us"] / 1000,
        "p99_ms": r["p99_us"] / 1000,
        "max_ms": r["max_us"] / 1000,
        "errors": r["connect_errors"] + r["read_errors"] + r["write_errors"] + r["timeouts"],
        "non_2xx": r["status_errors"],
    }


def queries_per_webhook(first_id: int) -> dict:
    """One real webhook through the test client, its SQL statements counted (for the explanation)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    sid = f"CK{first_id:09d}"
    body = body_template().replace('"%s"', f'"{sid}"').replace("%d", str(first_id)).replace("%%", "%")
    client = Client()
    with CaptureQueriesContext(connection) as ctx:
        response = client.post(f"/callkaro-webhook/?token={WEBHOOK_SECRET}", body, content_type="application/json")
    statements = [q["sql"].split()[0].upper() for q in ctx.captured_queries]
    return {"status": response.status_code, "queries": len(ctx.captured_queries), "statements": statements}


def cpu_per_request(first_id: int, live_first_id: int, n: int = 300) -> dict[str, dict[str, float]]:
    """Each target in this process through the test client: wall and CPU milliseconds per request.

    The real webhook gets live calls from ``live_first_id`` on, so each request finishes a call.

    CPU time is what two cores share between gunicorn, PostgreSQL and wrk, so its ratio explains the
    throughput ratio; it is also less disturbed than wall time by other work on the machine.
    """
    from django.test import Client

    template = body_template().replace("%%", "%")
    client = Client()
    targets = {
        "bare": "/bench/bare/",
        "minimal_update": "/bench/minimal-update/",
        "minimal_store_apply": "/bench/minimal-store-apply/",
        "webhook": f"/callkaro-webhook/?token={WEBHOOK_SECRET}",
    }
    out = {}
    for name, url in targets.items():
        timings = []
        for rnd in range(2):  # the first round warms up
            wall, cpu = time.perf_counter(), time.process_time()
            for i in range(n):
                pk = (live_first_id if name == "webhook" else first_id) + rnd * n + i
                body = template.replace('"%s"', f'"CK{pk:09d}"').replace("%d", str(pk))
                response = client.post(url, body, content_type="application/json")
                assert response.status_code == 200, (name, response.status_code)
            timings = [(time.perf_counter() - wall) * 1000 / n, (time.process_time() - cpu) * 1000 / n]
        out[name] = {"wall_ms": timings[0], "cpu_ms": timings[1]}
    return out


def measure_targets(
    base: str, ranges: dict[str, tuple[int, int]], *, seconds: int, connections: int, threads: int, warmup: int,
    groups: dict[str, int],
) -> dict[str, dict]:  # fmt: skip
    """The baselines, each warmed up for ``warmup`` seconds, then measured on its own range of live calls."""
    results: dict[str, dict] = {}
    baselines = (
        ("bare", "/bench/bare/"),
        ("minimal_update", "/bench/minimal-update/"),
        ("minimal_store_apply", "/bench/minimal-store-apply/"),
    )
    for name, path in baselines:
        lo, hi = ranges[name]
        wrk(base + path, lo=lo, hi=hi, seconds=warmup, connections=connections, threads=threads, tag=f"w{name}")
        before = cpu_seconds(groups)
        results[name] = r = wrk(
            base + path, lo=lo, hi=hi, seconds=seconds, connections=connections, threads=threads, tag=f"m{name}"
        )
        r["cpu_ms_per_request"] = cpu_ms_per(before, cpu_seconds(groups), r["requests"])
        _print(name, r)
    return results


def _print(name: str, r: dict) -> None:
    print(
        f"{name:>15}: {r['rps']:8.1f} req/s  p50 {r['p50_ms']:6.1f} ms  p99 {r['p99_ms']:6.1f} ms  "
        f"({r['requests']:,} requests, {r['non_2xx']} non-2xx, {r['errors']} socket errors)  "
        f"CPU ms per request {r.get('cpu_ms_per_request')}",
        flush=True,
    )


def measure_webhook_with_worker(
    base: str, env: dict[str, str], ranges: dict[str, tuple[int, int]], *, seconds: int, connections: int,
    threads: int, warmup: int, groups: dict[str, int],
) -> tuple[dict, dict]:  # fmt: skip
    """The real webhook while a real Celery worker drains: what wrk sees, and what the worker applied."""
    url = f"{base}/callkaro-webhook/?token={WEBHOOK_SECRET}"
    worker = start_worker(env, concurrency=1)
    try:
        lo, hi = ranges["webhook_warmup"]
        wrk(url, lo=lo, hi=hi, seconds=warmup, connections=connections, threads=threads, tag="wwebhook")
        # The worker is up and draining once the warm-up's events are applied.
        from bench.webhook_apply import _counts

        if not wait_until(lambda: (lambda c: c[0] == c[1])(_counts(lo, hi)), timeout=90, interval=0.5):
            raise RuntimeError("the worker did not drain the warm-up events within 90 s")
        lo, hi = ranges["webhook"]
        groups = {**groups, "worker": worker.pid}
        before = cpu_seconds(groups)
        with ApplyWatcher(lo, hi) as watcher:
            r = wrk(url, lo=lo, hi=hi, seconds=seconds, connections=connections, threads=threads, tag="mwebhook")
        r["cpu_ms_per_request"] = cpu_ms_per(before, cpu_seconds(groups), r["requests"])
        _print("webhook", r)
        applied = {**watcher.steady_rates(), **drain_and_account(lo, hi, answered_2xx=r["requests"] - r["non_2xx"])}
    finally:
        stop(worker)
    print(
        f"{'applied':>15}: {applied['applied_per_second']:8.1f} events/s steady "
        f"(stored {applied['stored_per_second']:.1f}/s)"
        f"  lag p50 {applied['lag_p50_ms']:.0f} ms p99 {applied['lag_p99_ms']:.0f} ms  backlog at end "
        f"{applied['backlog_at_end']}, drained in {applied['drained_in_seconds']:.1f} s, lost {applied['lost']}",
        flush=True,
    )
    return r, applied


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 2) + 1)
    parser.add_argument("--calls", type=int, default=40_000)
    parser.add_argument("--quick", action="store_true", help="3 s per target, few calls: proves it runs")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.calls = 2, 6_000
    if not args.database_url.startswith("postgres"):
        sys.exit("--database-url must name a migrated PostgreSQL database")
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (apt-get install -y wrk)")
    django_setup(args.database_url, DJANGO_SETTINGS_MODULE="bench.settings")
    from django.db import connection

    first, last = seed(args.calls)
    total = last - first + 1
    print(f"seeded {total:,} live calls ({first}…{last})", flush=True)
    connection.close()

    port = free_port()
    env = bench_env(args.database_url, DJANGO_SETTINGS_MODULE="bench.settings")
    server = start_gunicorn(env, port, workers=args.workers)
    base, threads, warmup = f"http://127.0.0.1:{port}", 2, 1 if args.quick else 3
    # Disjoint id ranges, so that every real webhook finishes a call that is still live.
    third = total // 3
    ranges = {
        "bare": (first, first + third - 1),
        "minimal_update": (first, first + third - 1),
        "minimal_store_apply": (first, first + third - 1),
        "webhook_warmup": (first + third, first + third + 1999),
        "webhook": (first + third + 2000, last),
    }
    timing = {"seconds": args.seconds, "connections": args.connections, "threads": threads, "warmup": warmup}
    timing["groups"] = {"gunicorn": server.pid}
    try:
        results = measure_targets(base, ranges, **timing)
        results["webhook"], applied = measure_webhook_with_worker(base, env, ranges, **timing)
    finally:
        stop(server)
    profile = queries_per_webhook(last)  # beyond what wrk and the CPU measurement reach: a live call
    print(f"one webhook request: {profile['queries']} SQL statements {profile['statements']}", flush=True)
    # Calls wrk never reached (it posts from the start of its range): live, so each webhook finishes one.
    n = 50 if args.quick else 300
    cpu = cpu_per_request(first, last - 2 * n - 2, n=n)
    for name, c in cpu.items():
        print(f"in process, {name:>15}: {c['wall_ms']:5.2f} ms wall, {c['cpu_ms']:5.2f} ms CPU per request")
    minimal = results["minimal_update"]["rps"]
    ratio, applied_ratio = results["webhook"]["rps"] / minimal, applied["applied_per_second"] / minimal
    print(
        f"webhook / minimal-update: answered {ratio:.0%}, applied {applied_ratio:.0%} (target >= 80 %), "
        f"p99 {results['webhook']['p99_ms']:.0f} ms, apply lag p99 {applied['lag_p99_ms']:.0f} ms"
    )
    emit(
        {
            "workers": args.workers,
            "connections": args.connections,
            "seconds": args.seconds,
            "wrk_threads": threads,
            "quick": args.quick,
            "results": results,
            "ratio_vs_minimal": ratio,
            "applied_ratio_vs_minimal": applied_ratio,
            "applied": applied,
            "outcomes": applied["outcomes"],
            "webhook_sql": profile,
            "in_process": cpu,
        }
    )


if __name__ == "__main__":
    main()
