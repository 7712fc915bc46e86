"""The funnel by Meta form, campaign and ad, and the rep leaderboard: the manager's "where do leads go
and who works them", read from lead rows and the daily roll-up, never by scanning every call log.

Definitions (tested on a hand-built data set in ``reporting/tests/test_funnel.py``):

* **leads in**: leads that arrived in the period (``created_at``), grouped by the Meta form, campaign
  and ad names they came with (blank for other sources).
* **called**: of those, leads with a dialled call of any provider (not queued, scheduled or cancelled),
  whenever it was made: ``Lead.first_call_at`` is set.
* **connected**: leads with a dialled call of talk time above zero (``Lead.first_connect_at`` is set).
* **interested**: leads now at interested or further (site visit, negotiation, converted).
* **converted**: leads now at converted.
* **time to first call**: the median, over called leads, of first dialled call − arrival (Meta's
  ``created_time`` when known, else the lead's arrival here), never below zero; **to first human touch**:
  the same for the first call of a provider a person makes (Acefone, ``Lead.first_human_call_at``). A
  call's time is its dial time: ``dispatched_at`` (our claim, just before the provider is asked), else
  its ``created_at`` (``telephony.lead_timeline``, which keeps these lead columns).
* **leaderboard**: per team member, calls created in the period (a call still waiting for its scheduled
  time is not one yet), connects (the dashboard's ``connected_q``), conversions (calls marked converted:
  by the AI, or by the rep's wrap-up), talk time, and follow-ups overdue now.

Queries: the funnel is ONE grouped query over the period's leads on PostgreSQL (medians by
``percentile_cont`` in SQL); SQLite has no ordered-set aggregate, so there a second query reads the
called leads' three times and Python takes the medians. The leaderboard sums the roll-up's clean past
days (``CallDailyRollup``: one query for which days, one for their sums) and counts the rest of the
period live (today, days not rolled up or dirty: one grouped query per provider), like the dashboard's
KPI cards, plus one query for overdue follow-ups: 3 queries for today, 5 at most.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from typing import Any

from django.db import connections
from django.db.models import Aggregate, Count, F, FloatField, Func, Q, Sum
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from crm.models import FollowUp, Lead, LeadStage
from telephony import calls

from .definitions import HAPPENED, Ranges, connected_q, has_conversions
from .periods import Period, local_today
from .rollup import rollup_clean_days, rollup_team_totals
from .selectors import live_ranges

INTERESTED_STAGES = (LeadStage.INTERESTED, LeadStage.SITE_VISIT, LeadStage.NEGOTIATION, LeadStage.CONVERTED)
FUNNEL_KEYS = ("meta_form_name", "meta_campaign_name", "meta_ad_name")
FUNNEL_LIMIT = 200
#: The lead column of each median, by output key.
MEDIANS = {"to_first_call": "first_call_at", "to_human": "first_human_call_at"}


class Median(Aggregate):
    """PostgreSQL's ``percentile_cont(0.5) WITHIN GROUP (ORDER BY …)``: the median (the mean of the two
    middle values for an even count, as ``statistics.median``), NULLs left out."""

    function = "PERCENTILE_CONT"
    name = "Median"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


def _leads_in(period: Period):
    qs = Lead.objects.filter(created_at__lt=period.end)
    return qs.filter(created_at__gte=period.start) if period.start is not None else qs


def _arrived() -> Coalesce:
    return Coalesce(F("meta_created_at"), F("created_at"))


def _seconds_to(column: str) -> Greatest:
    """Seconds from the lead's arrival to ``column``, never below zero (PostgreSQL)."""
    epoch = Func(F(column) - _arrived(), template="EXTRACT(EPOCH FROM %(expressions)s)", output_field=FloatField())
    return Greatest(0.0, epoch, output_field=FloatField())


def _sql_medians() -> bool:
    return connections[Lead.objects.db].vendor == "postgresql"


def funnel_counts(period: Period) -> list[dict[str, Any]]:
    """ONE grouped query over the period's leads: the funnel's counts per form, campaign and ad, with
    the medians in SQL on PostgreSQL (``to_first_call``/``to_human`` as float seconds or None)."""
    aggs: dict[str, Any] = {
        "leads": Count("id"),
        "called": Count("first_call_at"),
        "connected": Count("first_connect_at"),
        "interested": Count("id", filter=Q(stage__in=INTERESTED_STAGES)),
        "converted": Count("id", filter=Q(stage=LeadStage.CONVERTED)),
    }
    if _sql_medians():
        # GREATEST ignores NULLs, so the leads without the time are filtered out, not counted as zero.
        for key, column in MEDIANS.items():
            aggs[key] = Median(_seconds_to(column), filter=Q(**{f"{column}__isnull": False}))
    rows = _leads_in(period).values(*FUNNEL_KEYS).annotate(**aggs).order_by("-leads", *FUNNEL_KEYS)
    return list(rows[:FUNNEL_LIMIT])


def _median_seconds(values: list[float]) -> int | None:
    return int(statistics.median(values)) if values else None


def funnel_speeds(period: Period) -> dict[tuple, dict[str, int | None]]:
    """Python's medians for a database without ``percentile_cont`` (SQLite): ONE query over the period's
    called leads, their arrival and first (human) call times."""
    rows = (
        _leads_in(period)
        .filter(first_call_at__isnull=False)
        .annotate(arrived=_arrived())
        .values_list(*FUNNEL_KEYS, "arrived", *MEDIANS.values())
    )
    seconds: dict[str, dict[tuple, list[float]]] = {key: defaultdict(list) for key in MEDIANS}
    n = len(FUNNEL_KEYS)
    for row in rows:
        key, arrived, times = row[:n], row[n], row[n + 1 :]
        for out, at in zip(MEDIANS, times, strict=True):
            if at is not None:
                seconds[out][key].append(max(0.0, (at - arrived).total_seconds()))
    groups = set().union(*(found.keys() for found in seconds.values()))
    return {g: {out: _median_seconds(seconds[out].get(g, [])) for out in MEDIANS} for g in groups}


def funnel_report(period: Period) -> list[dict[str, Any]]:
    """The funnel rows with their medians in whole seconds (None without a call): one query on
    PostgreSQL, two on SQLite."""
    rows = funnel_counts(period)
    if _sql_medians():
        return [{**row, **{k: None if row[k] is None else int(row[k]) for k in MEDIANS}} for row in rows]
    speeds = funnel_speeds(period)
    none = dict.fromkeys(MEDIANS)
    return [{**row, **speeds.get(tuple(row[k] for k in FUNNEL_KEYS), none)} for row in rows]


def _rollup_split(period: Period, now: dt.datetime | None) -> tuple[list[dt.date], Ranges]:
    """The period's closed days the roll-up answers (built, not dirty) and the ranges counted live;
    no query for a period of today only."""
    last_closed = min(period.last_day, local_today(now) - dt.timedelta(days=1))
    if period.first_day is not None and period.first_day > last_closed:
        return [], [(period.start, period.end)]
    days = rollup_clean_days(period.first_day, last_closed)
    return days, live_ranges(period, days)


def _live_board(ranges: Ranges) -> list[dict[str, Any]]:
    """ONE grouped query per provider: each team member's calls in ``ranges``, as the roll-up sums them."""
    rows = []
    for name in calls.call_log_models():
        aggs: dict[str, Any] = {
            "calls": Count("id"),
            "connects": Count("id", filter=connected_q(name)),
            "talk_seconds": Sum("duration_seconds", default=0),
        }
        if has_conversions(name):
            aggs["conversions"] = Count("id", filter=Q(converted=True))
        qs = calls.calls(name, ranges=ranges, team_member__isnull=False).filter(HAPPENED)
        rows += [{"conversions": 0, **r} for r in qs.values("team_member_id", "team_member__name").annotate(**aggs)]
    return rows


def leaderboard(period: Period, *, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Per team member: calls, connects, conversions and talk time (clean past days from the roll-up, the
    rest live) and follow-ups overdue now; best converters first. 3 queries for today, 5 at most."""
    board: dict[int, dict[str, Any]] = {}

    def entry(member_id: int, name: str) -> dict[str, Any]:
        zero = {"calls": 0, "connects": 0, "conversions": 0, "talk_seconds": 0, "overdue": 0}
        return board.setdefault(member_id, {"member_id": member_id, "name": name, **zero})

    days, ranges = _rollup_split(period, now)
    rows = (rollup_team_totals(days) if days else []) + (_live_board(ranges) if ranges else [])
    for row in rows:
        e = entry(row["team_member_id"], row["team_member__name"])
        for col in ("calls", "connects", "conversions", "talk_seconds"):
            e[col] += row[col] or 0
    overdue = (
        FollowUp.objects.filter(done_at__isnull=True, due_at__lt=now or timezone.now(), owner__isnull=False)
        .values("owner_id", "owner__name")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in overdue:
        entry(row["owner_id"], row["owner__name"])["overdue"] = row["n"]
    out = list(board.values())
    out.sort(key=lambda r: (-r["conversions"], -r["connects"], -r["calls"], r["name"]))
    return out
