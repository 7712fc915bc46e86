"""Speed-to-lead benchmark: a Meta delivery's arrival to Call Karo's outbound request, end to end.

The real web server (gunicorn, threaded: the sandboxes sleep), a real Celery worker and beat, the
Meta Graph and Call Karo sandboxes served by the same gunicorn, PostgreSQL and Redis on loopback.
This process plays Meta: it posts one signed delivery per lead at a steady rate (Poisson arrivals)
and notes when each was sent. Graph answers after 0.3–2 s (uniform) and fails 5 % of its requests
with a 500 (sandbox faults). The clock stops when the Call Karo sandbox records the lead's
``POST /call/outbound``; the latency is that time minus the send time. Nothing waits for beat: the
webhook enqueues the fetch at once and a failed fetch is retried by the worker within seconds.

    .venv/bin/python bench/bench_speed_to_lead.py --database-url postgres://…/crm_bench_stl [--leads 1000]
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    PY,
    ROOT,
    bench_env,
    django_setup,
    emit,
    free_port,
    percentile,
    start_gunicorn,
    stop,
    wait_until,
)

APP_SECRET, PAGE_TOKEN = "bench-meta-app-secret", "bench-meta-page-token"  # noqa: S105 - bench-only values
ZONES = ["Asia/Kolkata", "UTC", "America/New_York", "Asia/Tokyo", "America/Los_Angeles"]


def calling_zone() -> str:
    """A time zone where it is calling hours now (9:00–21:00), so no dial is held for the window."""
    for name in ZONES:
        if 9 <= datetime.now(UTC).astimezone(ZoneInfo(name)).hour < 20:
            return name
    return ZONES[0]


def seed(leads: int) -> tuple[list[dict], dict[str, str]]:
    """A rep and the speed-to-lead agent; the leads' Graph data (stored only when each is submitted) and
    the leadgen id by phone."""
    from callkaro.models import CallKaroAgent
    from crm.models import Role
    from crm.tests.factories import make_member
    from metaleads.sandbox import DEMO_FORMS
    from metaleads.simulate import _lead_data

    make_member(Role.REP, username="bench-stl-rep", name="Bench rep")
    CallKaroAgent.objects.get_or_create(agent_id="bench-agent", defaults={"name": "Bench agent"})
    rng, form_id, rows, by_phone = random.Random(7), next(iter(DEMO_FORMS)), [], {}
    for i in range(leads):
        data = _lead_data(rng, form_id)
        data["id"] = f"77{i:013d}"
        phone = f"+9197{i:08d}"
        data["field_data"] = [f for f in data["field_data"] if f["name"] != "phone_number"]
        data["field_data"].append({"name": "phone_number", "values": [phone]})
        rows.append(data)
        by_phone[phone] = data["id"]
    return rows, by_phone


def start_celery(env: dict[str, str], *args: str) -> subprocess.Popen:
    cmd = [PY, "-m", "celery", "-A", "crm", *args, "--loglevel=ERROR"]
    return subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True)


def post_deliveries(base: str, leads: list[dict], rate: float) -> dict[str, float]:
    """Submit each lead (it appears in the Graph sandbox only now, as on Meta: the backfill cannot see it
    earlier) and post its signed delivery; arrivals a Poisson process at ``rate``/s. Send time by leadgen id."""
    import requests

    from metaleads.models import MetaSandboxLead
    from metaleads.simulate import delivery_body
    from metaleads.webhooks import SIGNATURE_HEADER, signature_for

    sent: dict[str, float] = {}
    lock, session = threading.Lock(), requests.Session()
    rng = random.Random(11)

    def one(leadgen_id: str, data: dict) -> None:
        body = delivery_body([data])
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: signature_for(body, APP_SECRET)}
        at = time.time()
        response = session.post(f"{base}/meta-leads-webhook/", data=body, headers=headers, timeout=10)
        if response.status_code == 200:
            with lock:
                sent[leadgen_id] = at

    with ThreadPoolExecutor(max_workers=16) as pool:
        next_at = time.monotonic()
        for data in leads:
            next_at += rng.expovariate(rate)
            time.sleep(max(0.0, next_at - time.monotonic()))
            MetaSandboxLead.objects.create(
                leadgen_id=data["id"], form_id=data["form_id"], created_time=datetime.now(UTC), data=data
            )
            pool.submit(one, data["id"], data)
    return sent


def dials(by_phone: dict[str, str]) -> dict[str, float]:
    """First Call Karo outbound request per leadgen id, as the sandbox recorded it (epoch seconds)."""
    from telephony.models import SandboxRequest

    first: dict[str, float] = {}
    rows = SandboxRequest.objects.filter(provider="callkaro", path__endswith="/call/outbound").order_by("created_at")
    for body, created in rows.values_list("body", "created_at"):
        leadgen_id = by_phone.get((body or {}).get("to_number", ""))
        if leadgen_id and leadgen_id not in first:
            first[leadgen_id] = created.timestamp()
    return first


def graph_figures() -> dict[str, int]:
    from telephony.models import SandboxRequest

    graph = SandboxRequest.objects.filter(provider="meta")
    return {"graph_requests": graph.count(), "graph_errors": graph.filter(response_status__gte=500).count()}


def measure(base: str, leads: list[dict], by_phone: dict[str, str], rate: float, timeout: float) -> dict:
    started = time.monotonic()
    sent = post_deliveries(base, leads, rate)
    posting = time.monotonic() - started
    wait_until(lambda: len(dials(by_phone)) >= len(sent), timeout=timeout, interval=1.0)
    dialled = dials(by_phone)
    latencies = [dialled[k] - sent[k] for k in sent if k in dialled]
    # Only beat's backfill could reach a lead before its delivery (it is in Graph a moment earlier): counted.
    early = sum(1 for x in latencies if x < 0)
    return {
        "leads": len(leads),
        "delivered": len(sent),
        "dialled": len(latencies),
        "rate_per_second": rate,
        "posting_seconds": posting,
        "p50_s": percentile(latencies, 50),
        "p95_s": percentile(latencies, 95),
        "p99_s": percentile(latencies, 99),
        "max_s": max(latencies, default=0.0),
        "dialled_before_delivery": early,
        **graph_figures(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--leads", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=8.0, help="deliveries per second (Poisson)")
    parser.add_argument("--quick", action="store_true", help="50 leads, 25 a second")
    args = parser.parse_args()
    if args.quick:
        args.leads, args.rate = 50, 25.0
    port, closed = free_port(), free_port()
    base = f"http://127.0.0.1:{port}"
    extra = {
        "PROVIDER_SANDBOX": "true",
        "CALLKARO_BASE_URL": f"{base}/sandbox/callkaro",
        "META_GRAPH_BASE_URL": f"{base}/sandbox/meta",
        "META_APP_SECRET": APP_SECRET,
        "META_VERIFY_TOKEN": "bench-meta-verify",
        "META_PAGE_ACCESS_TOKEN": PAGE_TOKEN,
        "SPEED_TO_LEAD_AGENT_ID": "bench-agent",
        "SITE_URL": f"http://127.0.0.1:{closed}",  # the Call Karo sandbox's call webhooks go nowhere
        "SANDBOX_DUPLICATE_RATE": "0",
        "TIME_ZONE": calling_zone(),
    }
    django_setup(args.database_url, **extra)
    from django.core.cache import cache
    from django.db import connection

    from telephony.sandbox import sandbox_faults_set

    leads, by_phone = seed(args.leads)
    cache.clear()
    sandbox_faults_set("meta", latency_ms=300, latency_ms_max=2000, status=500, error_rate=0.05)
    connection.close()
    env = bench_env(args.database_url, **extra)
    schedule = Path(tempfile.mkdtemp(prefix="bench-beat-")) / "schedule"
    procs = [start_gunicorn(env, port, workers=2, threads=16)]
    try:
        procs.append(start_celery(env, "worker", "--pool=threads", "--concurrency=16", "--without-mingle"))
        procs.append(start_celery(env, "beat", "--schedule", str(schedule)))
        time.sleep(1 if args.quick else 3)  # the worker connects to the broker; deliveries queue until then
        result = measure(base, leads, by_phone, args.rate, timeout=120 if args.quick else 240)
    finally:
        for proc in reversed(procs):
            stop(proc)
        cache.clear()
    result["time_zone"] = extra["TIME_ZONE"]
    print(
        f"{result['dialled']}/{result['delivered']} leads dialled; delivery → Call Karo request: "
        f"p50 {result['p50_s']:.2f} s, p95 {result['p95_s']:.2f} s, p99 {result['p99_s']:.2f} s, "
        f"max {result['max_s']:.2f} s; Graph {result['graph_requests']} requests, {result['graph_errors']} 500s",
        flush=True,
    )
    emit(result)


if __name__ == "__main__":
    main()
