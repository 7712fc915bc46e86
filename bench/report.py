"""docs/performance.md from one `make bench` run: a summary table, then a section per benchmark.

A benchmark that failed, or was left out with ``--only``, keeps the section of the last run that
measured it, marked as such, so the page never loses figures silently.
"""

from __future__ import annotations

import re

from bench.common import ROOT
from bench.report_webhook import failed_section, section_speed_to_lead, section_webhook, webhook_summary_rows

DOC = ROOT / "docs" / "performance.md"
DEFAULT_SCALE = 1_200_000


def scale_doc(scale: int) -> object:
    """The page of a dashboard run at another scale than the default (``--scale``): its own, so the main page
    stays one ``make bench`` run."""
    return ROOT / "docs" / f"dashboard-{scale // 1_000_000}m.md"


_failed = failed_section


def section_dispatch(o: dict) -> str:
    if not o.get("ok"):
        return _failed("Dispatch throughput", o)
    r = o["result"]
    b, d = r["baseline"], r["dispatch"]
    return (
        "\n".join(
            [
                "## Dispatch throughput",
                "",
                f"`bench/bench_dispatch.py`: one real Celery worker (prefork, concurrency {r.get('concurrency', 2)}, "
                "Redis broker: the Procfile's) and the Call Karo sandbox served by gunicorn (3 workers) on loopback. "
                "The bench process runs `scheduler_tick` back to back (claim due rows under SKIP LOCKED, enqueue one "
                "`telephony.call_dispatch` each); the worker claims each row, runs the pre-dial checks and POSTs "
                "it to the sandbox. The clock runs from the first tick until no row is scheduled, queued or "
                "dispatching. The sandbox posts no simulated webhooks (`SANDBOX_WEBHOOK_DELIVERY=off`), so the "
                "worker only dispatches and each sandbox answer is just the API's.",
                "",
                "| measure | count | seconds | per second | vs baseline |",
                "| --- | ---: | ---: | ---: | ---: |",
                f"| baseline: trivial task (`celery.accumulate`), sent and completed | {b['tasks']:,} "
                f"| {b['seconds']:.1f} | {b['per_second']:.0f} | 100 % |",
                f"| **calls claimed and sent to the sandbox** | {d['finished']:,} of {d['calls']:,} "
                f"| {d['seconds']:.1f} | {d['per_second']:.1f} | {r['ratio']:.1%} |",
                "",
                f"Requests that reached the sandbox: {d['sent_to_sandbox']:,}; final statuses: "
                f"{', '.join(f'{k} {v:,}' for k, v in sorted(d['statuses'].items()))}; scheduler ticks: {d['ticks']}."
                + (" **The run hit its time limit.**" if d.get("timed_out") else ""),
                "",
                *_dial_profile(r.get("profile")),
                "A dial is three queries (`telephony/tests/test_dial_queries.py`, target ≤ 6; four on a lead's "
                "first dial, which writes its call timeline): the claim UPDATE, one read of the claimed row with "
                "everything the pre-dial checks and the request need (lead, rep, agent, campaign, do-not-call hit, "
                "the lead's other calls, the calling policy), and one UPDATE for the result. That read is built "
                "and compiled by the ORM once per worker thread and re-run with the new id and clock "
                "(`telephony/prepared.py`: kept only when two compilations with different placeholder values "
                "differ in those parameters alone); compiling it per dial cost about 6 of the 10 ms a dial took "
                "in process before. The Call Karo config is read once per process (cached a few seconds) and each "
                "worker process keeps one HTTP session per provider (keep-alive).",
                "",
                "What limits the ratio: the loop is CPU-bound on two shared cores, and a dial's CPU is not only "
                "the worker's: the sandbox serves a Django request and stores it for each call, PostgreSQL runs "
                "the claim, the read and the result's UPDATE (each a commit), and the bench's scheduler ticks "
                "claim and enqueue. A trivial task is one broker round trip. The 25 % target asks a dial, HTTP "
                f"round trip included, to cost four trivial tasks; here it costs about {1 / r['ratio']:.0f}. More "
                "worker processes help only while a core is idle (a dial waits on HTTP: against a real provider "
                "100 ms or more, so a production dispatch worker wants more processes than cores: `--concurrency`, "
                "or a threads pool). In production the dispatcher is "
                "further bounded on purpose by CAMPAIGN_GLOBAL_MAX_LIVE, each campaign's pace and concurrency, "
                "and the 5-second tick.",
                "",
            ]
        )
        + "\n"
    )


def _dial_profile(profile: dict | None) -> list[str]:
    if not profile:
        return []
    parts = "; ".join(f"{label} {share:.0f} %" for label, share in profile["share_of_dial"].items())
    return [
        f"In process, {profile['dials']} more dials against the same sandbox (its CPU not counted): "
        f"**{profile['cpu_ms_per_dial']:.2f} ms of CPU and {profile['queries_per_dial']:.1f} queries per dial** "
        f"(each a lead's first). Where that CPU goes (cProfile on the CPU clock, a lead's later dials): {parts}.",
        "",
    ]


def section_panel(o: dict) -> str:
    if not o.get("ok"):
        return _failed("Call panel", o)
    r = o["result"]
    base = r["rows"][0]["median_ms"]
    lines = [
        "## Call panel",
        "",
        f"`bench/bench_call_panel.py`: `/call-panel/` rendered {r['renders']} times per case through the Django "
        f"test client as a rep who owns {r['leads']:,} leads (DEBUG off, Redis cache); median and p95. Baseline: "
        "the page's own lead query (count and the first 20 rows) run alone.",
        "",
        "| case | median | p95 | queries | vs baseline |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for x in r["rows"]:
        lines.append(
            f"| {x['case']} | {x['median_ms']:.1f} ms | {x['p95_ms']:.1f} ms | {x['queries']} "
            f"| {x['median_ms'] / base:.1f}× |"
        )
    lines += [
        "",
        "The list is paginated (20 a page) on the `(assigned_to, -created_at)` index, so the first page does "
        "not depend on the number of leads; the count is the one cost that grows with it. A deep page pays "
        "OFFSET; a name search (`icontains`) scans the rep's leads. The query count does not depend on the "
        "number of leads.",
        "",
    ]
    return "\n".join(lines) + "\n"


def section_fanout(o: dict, big: dict | None = None) -> str:
    if not o.get("ok"):
        return _failed("Campaign fan-out", o)
    r = o["result"]
    v = {x["variant"]: x for x in r["variants"]}
    raw, launch = v["raw"], v["launch"]
    ratio = launch["seconds"] / raw["seconds"]
    lines = [
        "## Campaign fan-out",
        "",
        f"`bench/bench_campaign_fanout.py`: {r['leads']:,} leads; `campaign_launch` (streamed audience, "
        "DNC/duplicate/other-campaign checks, call rows written with PostgreSQL `COPY` a 2,000-row chunk at a "
        "time, Call Karo's campaign creation stubbed) against a raw `bulk_create` of the same rows built from a "
        "fully loaded list. Each variant runs in its own process, so its peak RSS is its own.",
        "",
        "| variant | rows | seconds | rows/s | peak RSS | vs raw |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
        f"| baseline: raw `bulk_create` | {raw['rows']:,} | {raw['seconds']:.1f} | {raw['rows_per_second']:,} "
        f"| {raw['peak_rss_mb']:.0f} MB | 1.00× |",
        f"| **`campaign_launch`** | {launch['rows']:,} | {launch['seconds']:.1f} "
        f"| {launch['rows_per_second']:,} | {launch['peak_rss_mb']:.0f} MB | {ratio:.2f}× |",
    ]
    million = None
    if big and big.get("ok"):
        million = big["result"]["variants"][0]
        lines.append(
            f"| **`campaign_launch`, 1M leads** (no raw run: it would hold a million rows) | {million['rows']:,} "
            f"| {million['seconds']:.1f} | {million['rows_per_second']:,} | {million['peak_rss_mb']:.0f} MB | — |"
        )
    lines += [
        "",
        f"Targets: ≤ 1.0× raw `bulk_create` → **{ratio:.2f}×, {'met' if ratio <= 1.0 else 'missed'}**; peak RSS "
        f"< 300 MB → **{launch['peak_rss_mb']:.0f} MB, {'met' if launch['peak_rss_mb'] < 300 else 'missed'}**"
        + (
            f"; 1M leads < 300 MB → **{million['peak_rss_mb']:.0f} MB, "
            f"{'met' if million['peak_rss_mb'] < 300 else 'missed'}**."
            if million
            else "; 1M leads: not run (full `make bench` only)."
        ),
        "",
        "How: the audience is ONE streamed query (a server-side cursor, sorted by phone) whose rows carry "
        "every check's facts as annotations: the raw stored phone, a do-not-call list match, the stage and "
        "flags, and whether the lead is in another active campaign; so a filter audience costs no query per "
        "chunk, whatever its size (a test compares the query count at 10 and 200 leads), and a CSV audience a "
        "few per chunk. The launch asks the eligibility rule only what does not depend on the moment "
        "(`decide` with no time: do-not-call, stage, number validity and country); live calls, the minimum "
        "gap and the calling hours are asked again by every dial. Each phone number is parsed once. The "
        "call-log rows are written from a template row plus each lead's own columns: the constant columns "
        "prepared once per chunk through each field's `get_db_prep_save`, so the values are the ORM's (a test "
        "compares them column by column), and no model object per row. `COPY` "
        "(`callkaro/campaigns/rows.py`) sends each 2,000-row chunk as one stream (chunks, because the cursor "
        "and the checks share the connection); SQLite keeps `bulk_create`. The baseline builds a model object "
        "per row and lets `bulk_create` build its INSERTs.",
        "",
    ]
    return "\n".join(lines) + "\n"


def section_dashboard(o: dict, previous: str | None) -> str:
    if o.get("ok"):
        return o["result"]["section"].rstrip("\n") + "\n"
    failed = _failed("Dashboard", o)
    if previous:
        body = previous.split("\n", 1)[1] if "\n" in previous else ""
        return failed + "\nFigures from an earlier run, kept for reference:\n" + body
    return failed


def previous_section(title: str) -> str | None:
    if not DOC.exists():
        return None
    m = re.search(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", DOC.read_text(), re.S | re.M)
    return m.group(0).rstrip("\n") + "\n" if m else None


def previous_dashboard() -> str | None:
    return previous_section("Dashboard")


SECTION_TITLES = {
    "webhook": "Webhook ingestion",
    "speed_to_lead": "Speed-to-lead",
    "campaign_fanout": "Campaign fan-out",
    "dispatch": "Dispatch throughput",
    "dashboard": "Dashboard",
    "call_panel": "Call panel",
}


def section_or_previous(name: str, outcomes: dict[str, dict], render, *extra) -> str:
    """A benchmark left out with --only keeps the section of the run that measured it."""
    if name not in outcomes:
        kept = previous_section(SECTION_TITLES[name])
        if kept:
            return kept.rstrip("\n") + "\n\n_(Kept from an earlier run: not measured by this `--only` run.)_\n"
    return render(outcomes.get(name, {"error": "not run"}), *extra)


def summary(outcomes: dict[str, dict]) -> str:
    rows = ["| benchmark | figure | baseline (same run) | ratio | target |", "| --- | --- | --- | ---: | --- |"]
    rows += webhook_summary_rows(outcomes)
    o = outcomes.get("campaign_fanout", {})
    if o.get("ok"):
        v = {x["variant"]: x for x in o["result"]["variants"]}
        rows.append(
            f"| campaign fan-out | {v['launch']['seconds']:.1f} s, {v['launch']['peak_rss_mb']:.0f} MB "
            f"| raw bulk_create {v['raw']['seconds']:.1f} s | {v['launch']['seconds'] / v['raw']['seconds']:.2f}× "
            "| ≤ 1.0×, < 300 MB |"
        )
    o = outcomes.get("campaign_fanout_1m", {})
    if o.get("ok"):
        x = o["result"]["variants"][0]
        rows.append(
            f"| campaign fan-out, 1M leads | {x['seconds']:.0f} s, {x['peak_rss_mb']:.0f} MB | — | — | < 300 MB |"
        )
    o = outcomes.get("dispatch", {})
    if o.get("ok"):
        d, b = o["result"]["dispatch"], o["result"]["baseline"]
        rows.append(
            f"| dispatch | {d['per_second']:.1f} calls/s | trivial tasks {b['per_second']:.0f}/s "
            f"| {o['result']['ratio']:.1%} | ≥ 25 %, ≤ 6 queries per dial (3) |"
        )
    rows += dashboard_rows(outcomes.get("dashboard", {}))
    rows += _other_scale_rows()
    o = outcomes.get("call_panel", {})
    if o.get("ok"):
        first, base = o["result"]["rows"][1], o["result"]["rows"][0]
        rows.append(
            f"| call panel, 100k leads | first page {first['median_ms']:.0f} ms ({first['queries']} queries) "
            f"| lead query {base['median_ms']:.0f} ms | {first['median_ms'] / base['median_ms']:.1f}× | — |"
        )
    for name, o in outcomes.items():
        if not o.get("ok"):
            rows.append(f"| {name} | **failed**: {o.get('error', '').splitlines()[0]} | | | |")
    return "\n".join(rows + _kept_rows(outcomes)) + "\n"


def dashboard_rows(o: dict, label: str = "dashboard") -> list[str]:
    rows = []
    if o.get("ok"):
        for p in o["result"]["periods"]:
            rows.append(
                f"| {label}, {p['period']} | cold {p['cold_ms']:.0f} ms, warm {p['warm_ms']:.0f} ms; "
                f"funnel {p.get('funnel_ms', 0):.0f} ms, leaderboard {p.get('board_ms', 0):.0f} ms "
                f"| 1 raw query {p['baseline_ms']:.0f} ms | {p['warm_ms'] / max(p['baseline_ms'], 0.1):.1f}× (warm) "
                "| < 300 ms cold |"
            )
    return rows


def _other_scale_rows() -> list[str]:
    """The summary rows of the dashboard's runs at other scales (their own pages), named as such."""
    rows = []
    for page in sorted(DOC.parent.glob("dashboard-*m.md")):
        rows += [
            row.replace(" |", f" _(its own run: [{page.name}]({page.name}))_ |", 1)
            for row in page.read_text().splitlines()
            if row.startswith("| dashboard at ")
        ]
    return rows


def write_scale_doc(info: dict[str, str], o: dict, scale: int) -> None:
    """A dashboard run at another scale: its page, with its summary rows and its section."""
    page = scale_doc(scale)
    label = f"dashboard at {scale / 1_000_000:g}M"
    head = [
        f"# Dashboard at {scale:,} call logs",
        "",
        f"Generated by `bench/run_all.py --only dashboard --scale {scale}` on {info['date']}. Machine: "
        f"{info['nproc']} cores ({info['cpu']}), {info['memory']} RAM; {info['python']}; PostgreSQL "
        f"{info['postgresql']}. Its own run: `docs/performance.md` is one `make bench` run at the default "
        f"{DEFAULT_SCALE:,}, and lists these rows too.",
        "",
        "| benchmark | figure | baseline (same run) | ratio | target |",
        "| --- | --- | --- | ---: | --- |",
        *dashboard_rows(o, label),
        "",
    ]
    page.write_text("\n".join(head) + "\n" + section_dashboard(o, None))
    print(f"\nwrote {page.relative_to(ROOT)}", flush=True)


#: How each benchmark's rows start in the summary table, to keep them when an ``--only`` run skips it.
ROW_PREFIX = {
    "webhook": "| webhook",
    "speed_to_lead": "| speed-to-lead",
    "campaign_fanout": "| campaign fan-out |",
    "campaign_fanout_1m": "| campaign fan-out, 1M",
    "dispatch": "| dispatch",
    "dashboard": "| dashboard",
    "call_panel": "| call panel",
}


def _kept_rows(outcomes: dict[str, dict]) -> list[str]:
    """The earlier summary rows of benchmarks this run did not measure, marked as such."""
    if not DOC.exists():
        return []
    head = DOC.read_text().split("\n## ", 1)[0].splitlines()
    kept = []
    for name, prefix in ROW_PREFIX.items():
        if name not in outcomes:
            kept += [
                row.replace(" |", " _(earlier run)_ |", 1) if "earlier run" not in row else row
                for row in head
                if row.startswith(prefix)
            ]
    return kept


def write_doc(info: dict[str, str], outcomes: dict[str, dict], total: float, previous: str | None) -> None:
    head = [
        "# Performance",
        "",
        f"Generated by `make bench` (`bench/run_all.py`) on {info['date']}, in {total / 60:.1f} minutes. Machine: "
        f"{info['nproc']} cores ({info['cpu']}), {info['memory']} RAM, Linux {info['kernel']}; {info['python']}; "
        f"PostgreSQL {info['postgresql']}; Redis {info['redis']}; everything on loopback. Every figure comes with "
        "a baseline measured in the same run on the same machine: read the ratios, the absolute numbers drift "
        f"with the machine (other work on it included). Load average when the run started: {info.get('load', '?')}."
        + (
            f" This was an `--only` run ({info['measured']}): the other sections are kept from an earlier run, "
            "marked as such."
            if info.get("measured")
            else ""
        ),
        "",
        summary(outcomes),
    ]
    parts = [
        "\n".join(head),
        section_or_previous("webhook", outcomes, section_webhook),
        section_or_previous("speed_to_lead", outcomes, section_speed_to_lead),
        section_or_previous("campaign_fanout", outcomes, section_fanout, outcomes.get("campaign_fanout_1m")),
        section_or_previous("dispatch", outcomes, section_dispatch),
        section_or_previous("dashboard", outcomes, section_dashboard, previous),
        section_or_previous("call_panel", outcomes, section_panel),
    ]
    DOC.parent.mkdir(exist_ok=True)
    DOC.write_text("\n".join(p.rstrip("\n") + "\n" for p in parts))
    print(f"\nwrote {DOC.relative_to(ROOT)}", flush=True)
