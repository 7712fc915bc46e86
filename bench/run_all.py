"""`make bench`: every benchmark on loopback PostgreSQL + Redis, then docs/performance.md from the run.

Each benchmark runs in its own process with its own database (``crm_bench_*``, dropped afterwards),
bounded in requests and time; one that fails or overruns is reported with why, and the others
still run. Every figure is printed beside a baseline measured in the same run on the same machine.

    .venv/bin/python bench/run_all.py [--quick] [--only webhook,dispatch,...] [--scale 10000000]

``--quick`` (or ``BENCH_QUICK=1``; ``make bench ARGS=--quick``) runs every benchmark at small sizes, a
few seconds each, to prove they all still run (``.ci/run`` does it); it prints the summary and leaves
docs/performance.md alone, since its figures mean nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    PY,
    REDIS_URL,
    RESULT_PREFIX,
    ROOT,
    bench_env,
    create_db,
    db_url,
    drop_db,
    psql,
)
from bench.report import DEFAULT_SCALE, previous_dashboard, summary, write_doc, write_scale_doc  # noqa: E402

TEMPLATE_DB = "crm_bench"
BUDGET_SECONDS = 14 * 60  # the whole run stays under 15 minutes


def sh(cmd: str) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, shell=True, capture_output=True, text=True)  # noqa: S602 - fixed commands


def ensure_services() -> None:
    """Start PostgreSQL and Redis with the machine's own commands when they are down."""
    if sh("pg_isready -h 127.0.0.1 -q").returncode != 0:
        print("PostgreSQL is down: starting it", flush=True)
        sh("pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start")
    if sh("redis-cli -h 127.0.0.1 ping").stdout.strip() != "PONG":
        print("Redis is down: starting it", flush=True)
        sh(
            'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no '
            "--dir /var/lib/redis --logfile /var/log/redis/ci.log"
        )
    for _ in range(60):
        if sh("pg_isready -h 127.0.0.1 -q").returncode == 0 and sh("redis-cli -h 127.0.0.1 ping").stdout.strip():
            return
        time.sleep(0.5)
    raise SystemExit("PostgreSQL or Redis is not reachable on 127.0.0.1")


def ensure_wrk() -> str | None:
    """wrk from Debian; installed when missing. None (with the reason printed) when that fails."""
    if shutil.which("wrk"):
        return None
    print("installing wrk (apt-get install -y wrk)", flush=True)
    out = sh("apt-get install -y wrk || (apt-get update && apt-get install -y wrk)")
    if shutil.which("wrk"):
        return None
    return f"wrk is missing and could not be installed: {out.stderr.strip()[-300:]}"


def machine() -> dict[str, str]:
    cpu = ""
    try:
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        )
    except (OSError, StopIteration):
        cpu = platform.processor()
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": str(os.cpu_count()),
        "cpu": cpu or "unknown",
        "memory": _memory(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "postgresql": psql("SHOW server_version"),
        "redis": (re.search(r"redis_version:(\S+)", sh("redis-cli -h 127.0.0.1 info server").stdout) or [None, "?"])[1],
        "kernel": platform.release(),
        "load": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def _memory() -> str:
    try:
        kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        return f"{kb / 1024 / 1024:.1f} GB"
    except (OSError, AttributeError):
        return "?"


def migrate_template() -> None:
    create_db(TEMPLATE_DB)
    env = bench_env(db_url(TEMPLATE_DB))
    subprocess.run([PY, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)


def run(name: str, cmd: list[str], *, env: dict[str, str], timeout: float) -> dict[str, Any]:
    """Run one benchmark, echoing its output; its result is the JSON on its BENCH_RESULT line."""
    print(f"\n=== {name} (at most {timeout:.0f} s) ===", flush=True)
    started = time.monotonic()
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    lines: list[str] = []

    def pump() -> None:
        for line in proc.stdout:  # type: ignore[union-attr]
            lines.append(line)
            if not line.startswith(RESULT_PREFIX):
                print(f"  {line}", end="", flush=True)

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    timed_out = False
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        os.killpg(proc.pid, 9)  # its own session: the bench and the servers it started
        proc.wait(timeout=30)
    reader.join(timeout=10)
    seconds = time.monotonic() - started
    result = next((json.loads(x[len(RESULT_PREFIX) :]) for x in reversed(lines) if x.startswith(RESULT_PREFIX)), None)
    if result is not None and proc.returncode == 0:
        print(f"=== {name}: done in {seconds:.0f} s ===", flush=True)
        return {"ok": True, "seconds": seconds, "result": result}
    tail = "".join(lines[-15:]).strip()
    why = f"timed out after {timeout:.0f} s" if timed_out else f"exit status {proc.returncode}"
    reason = f"{why}; last output:\n{tail}" if tail else why
    print(f"=== {name}: FAILED ({why}) ===", flush=True)
    return {"ok": False, "seconds": seconds, "error": reason}


NAMES = ["webhook", "dispatch", "call_panel", "campaign_fanout", "campaign_fanout_1m", "speed_to_lead", "dashboard"]


def plans(quick: bool, scale: int) -> dict[str, tuple[list[str], str, bool, int]]:
    """Per benchmark: its script and arguments, its database, whether it starts from the migrated
    template, and its time limit in seconds; ``quick`` shrinks every size."""
    bench = ROOT / "bench"
    if quick:
        return {
            "webhook": ([str(bench / "bench_webhook.py"), "--quick"], "crm_bench_webhook", True, 120),
            "dispatch": (
                [str(bench / "bench_dispatch.py"), "--calls", "60", "--trivial", "100"],
                "crm_bench_dispatch",
                True,
                90,
            ),
            "call_panel": (
                [str(bench / "bench_call_panel.py"), "--leads", "2000", "--renders", "3"],
                "crm_bench_panel",
                True,
                60,
            ),
            "campaign_fanout": (
                [str(bench / "bench_campaign_fanout.py"), "--json", "--leads", "2000"],
                "crm_bench_fanout",
                False,
                60,
            ),
            "speed_to_lead": ([str(bench / "bench_speed_to_lead.py"), "--quick"], "crm_bench_stl", True, 120),
            "dashboard": (
                [str(bench / "bench_dashboard.py"), "--no-write", "--json", "--scale", "24000"],
                "crm_bench_dashboard",
                False,
                90,
            ),
        }
    return {
        "webhook": ([str(bench / "bench_webhook.py")], "crm_bench_webhook", True, 200),
        "dispatch": ([str(bench / "bench_dispatch.py"), "--calls", "1200"], "crm_bench_dispatch", True, 240),
        "call_panel": ([str(bench / "bench_call_panel.py")], "crm_bench_panel", True, 240),
        "campaign_fanout": ([str(bench / "bench_campaign_fanout.py"), "--json"], "crm_bench_fanout", False, 400),
        "campaign_fanout_1m": (
            [str(bench / "bench_campaign_fanout.py"), "--json", "--leads", "1000000", "--variants", "launch"],
            "crm_bench_fanout_1m",
            False,
            600,
        ),
        "speed_to_lead": ([str(bench / "bench_speed_to_lead.py")], "crm_bench_stl", True, 400),
        "dashboard": (
            [str(bench / "bench_dashboard.py"), "--no-write", "--json", "--scale", str(scale)],
            "crm_bench_dashboard",
            False,
            420 if scale <= 1_200_000 else 3600,
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="comma-separated subset of " + ", ".join(NAMES))
    parser.add_argument("--quick", action="store_true", default=os.environ.get("BENCH_QUICK", "") not in ("", "0"))
    parser.add_argument("--scale", type=int, default=DEFAULT_SCALE, help="dashboard call logs (10000000 possible)")
    args = parser.parse_args()
    table = plans(args.quick, args.scale)
    wanted = [n for n in (args.only.split(",") if args.only else NAMES) if n in table]
    budget = 5 * 60 if args.quick else BUDGET_SECONDS + (3600 if args.scale > 1_200_000 else 0)
    started = time.monotonic()
    ensure_services()
    info = machine()
    print(f"machine: {info}", flush=True)
    previous = previous_dashboard()
    outcomes: dict[str, dict] = {}
    wrk_problem = ensure_wrk() if "webhook" in wanted else None
    migrate_template()
    try:
        for name in wanted:
            script, database, from_template, limit = table[name]
            remaining = budget - (time.monotonic() - started)
            if name == "webhook" and wrk_problem:
                outcomes[name] = {"ok": False, "error": wrk_problem}
                continue
            if remaining < 30:
                outcomes[name] = {"ok": False, "error": f"skipped: the run's {budget // 60}-minute budget was used up"}
                continue
            try:
                ensure_services()  # another job on the machine may have restarted one
                if from_template:
                    create_db(database, template=TEMPLATE_DB)
                else:
                    drop_db(database)
                url = db_url(database)
                env = bench_env(url)
                if name.startswith("campaign_fanout"):
                    env.pop("DJANGO_SETTINGS_MODULE")  # it picks its own (crm.settings_test), as before
                outcomes[name] = run(name, [PY, *script, "--database-url", url], env=env, timeout=min(limit, remaining))
            except Exception as exc:  # noqa: BLE001 - one benchmark's failure must not stop the others
                outcomes[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
                print(f"=== {name}: FAILED ({exc}) ===", flush=True)
            finally:
                try:
                    drop_db(database)
                except subprocess.CalledProcessError as exc:
                    print(f"could not drop {database}: {exc.stderr}", flush=True)
                sh(f"redis-cli -h 127.0.0.1 -n {REDIS_URL.rsplit('/', 1)[-1] or 0} flushdb")
    finally:
        drop_db(TEMPLATE_DB)
    total = time.monotonic() - started
    if args.quick:
        print("\n--quick: figures from small sizes, docs/performance.md left alone\n" + summary(outcomes), flush=True)
    else:
        if args.scale != DEFAULT_SCALE and "dashboard" in outcomes:  # its own page; the main page keeps its run
            write_scale_doc(info, outcomes.pop("dashboard"), args.scale)
        info["measured"] = ", ".join(outcomes) if args.only else ""
        if outcomes:
            write_doc(info, outcomes, total, previous)
    failed = [n for n, o in outcomes.items() if not o.get("ok")]
    print(
        f"make bench: {len(outcomes) - len(failed)} of {len(outcomes)} benchmarks ran in {total / 60:.1f} min", end=""
    )
    print(f"; failed: {', '.join(failed)}" if failed else "", flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
