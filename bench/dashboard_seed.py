"""Seeding the dashboard benchmark's database: generated rows in PostgreSQL, the leads' call timeline from
them (the data migrations' backfill), then the roll-up's first fill.

Imported by ``bench_dashboard.py`` once Django is set up; ``insert_series`` is shared with other benches.
"""

from __future__ import annotations

import time

from django.apps import apps
from django.db import connection

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
    """The team, agents, campaigns and leads, then ``rows`` AI call logs and ``rows // 5`` human ones."""
    from django.contrib.auth.management import create_permissions

    from crm.roles import sync_role_groups

    for app_config in apps.get_app_configs():  # what post_migrate would do
        create_permissions(app_config, verbosity=0)
    sync_role_groups()
    t0 = time.perf_counter()
    with connection.cursor() as cur:  # a bulk load: no need to wait for each commit's fsync
        cur.execute("SET synchronous_commit TO off")
        # Generated rows are consistent by construction: skip the per-row foreign-key triggers while loading.
        cur.execute("SET session_replication_role TO replica")
    manager, first_ids = _seed_people()
    _seed_calls(rows, *first_ids)
    timeline_seconds = _seed_lead_timeline()
    with connection.cursor() as cur:
        cur.execute("SET session_replication_role TO DEFAULT")
        cur.execute("VACUUM ANALYZE")  # fresh statistics and visibility map, as autovacuum would give
    return manager, {"seed_seconds": time.perf_counter() - t0, "timeline_seconds": timeline_seconds}


def _seed_lead_timeline() -> float:
    """The leads' call timeline from the generated calls, as the data migrations fill it: one set-based
    ``UPDATE … FROM`` a grouped query per call-log table. Returns its seconds."""
    from telephony.lead_timeline import lead_timeline_backfill

    t = time.perf_counter()
    leads = lead_timeline_backfill()
    seconds = time.perf_counter() - t
    print(f"lead timeline backfilled in {seconds:.1f} s ({leads:,} lead rows written)", flush=True)
    return seconds


def _seed_people() -> tuple[object, tuple[int, int, int, int]]:
    """Reps, a manager, agents, campaigns and leads; returns the manager and the first ids."""
    from callkaro.models import CallKaroAgent, CallKaroCampaign
    from crm import services
    from crm.models import Lead, Role

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
    insert_series(
        Lead,
        N_LEADS,
        {
            "name": "'Lead ' || g",
            "phone": "'+9198' || lpad(g::text, 8, '0')",
            "assigned_to_id": f"{m0} + (g %% {N_MEMBERS})",
            "created_at": "now()",
            "updated_at": "now()",
        },
    )
    lead0 = Lead.objects.order_by("pk").values_list("pk", flat=True).first()
    return manager, (m0, a0, c0, lead0)


def _seed_calls(rows: int, m0: int, a0: int, c0: int, lead0: int) -> None:
    """The call logs, generated in PostgreSQL: spread over ``DAYS`` days, statuses in fixed proportions."""
    from acefone.models import AcefoneCallLog
    from callkaro.models import CallKaroCallLog

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


def build_rollup() -> dict:
    """The first fill, as an operator would run it, then one run of the beat task's refresh."""
    from io import StringIO

    from django.core.management import call_command

    from reporting.models import CallDailyRollup
    from reporting.services import rollup_refresh

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
