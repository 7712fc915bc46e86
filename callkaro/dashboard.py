"""Reads for the manager's dashboard: one aggregate query per widget, a fixed number per page.

Definitions, in one place (the tests check each one):

* **calls**: call logs *created* in the period (any status, pending and live included).
* **settled**: calls in a terminal status (completed, no answer, busy, failed, cancelled, unknown).
* **connected**: ``status = completed`` OR ``duration_seconds > 0`` (see ``CONNECTED``). A voicemail or
  a call whose webhook reported talk time counts; a completed call with no duration still counts.
* **no answer**: ``no_answer`` or ``busy`` (the customer was not reached).
* **connect rate** = connected / settled; **conversion rate** = conversions / connected.
* **talk time**: the sum of ``duration_seconds``; **average talk time** = talk time / connected.
* **conversions**: AI calls with ``converted = true``. Acefone reports no conversion: ``None`` there.
* **calls per day** = calls / days in the period (for "all time": days since the first call).

Periods are local days in ``settings.TIME_ZONE`` (Asia/Kolkata): "today" starts at local midnight, and
"7 days" is today and the six days before it. Agent and campaign filters apply to AI calls only, so they
exclude human (Acefone) calls.

The KPI cards are summed from the calls-over-time query (grouped by local day), which carries every KPI
column: one scan feeds both widgets. ``dashboard_figures_cached`` (what the views use) takes the days
before today from a roll-up kept in the cache for a few minutes and counts today live; see
docs/performance.md ("Dashboard") for the measurements and the reasons.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache
from django.db.models import BooleanField, Count, ExpressionWrapper, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from acefone.models import AcefoneCallLog
from crm.telephony.status import TERMINAL_STATUSES, CallStatus

from .models import CallKaroAgent, CallKaroCallLog, CallKaroCampaign

#: The one definition of a connected call (module docstring).
CONNECTED = Q(status=CallStatus.COMPLETED) | Q(duration_seconds__gt=0)
NO_ANSWER_STATUSES = (CallStatus.NO_ANSWER, CallStatus.BUSY)
SETTLED_STATUSES = tuple(sorted(TERMINAL_STATUSES))

PERIODS = {"today": "Today", "7d": "7 days", "30d": "30 days", "all": "All time", "custom": "Custom range"}
PROVIDERS = {"": "Both", "ai": "Call Karo AI", "human": "Acefone (human)"}
#: Chart series: the stacked outcomes, in drawing order.
OUTCOMES = ("completed", "no_answer", "failed", "other")
RECENT_LIMIT = 15
CAMPAIGN_LIMIT = 10


def local_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


@dataclass(frozen=True)
class Period:
    """A half-open range ``[start, end)`` of aware datetimes; ``start`` None means all time."""

    key: str
    start: dt.datetime | None
    end: dt.datetime
    first_day: dt.date | None
    last_day: dt.date

    @property
    def label(self) -> str:
        if self.key == "custom":
            return f"{self.first_day:%d %b %Y} – {self.last_day:%d %b %Y}"
        return PERIODS.get(self.key, self.key)


def _local_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=local_zone())


def period_resolve(
    key: str, *, start: dt.date | None = None, end: dt.date | None = None, now: dt.datetime | None = None
) -> Period:
    """Turn a period choice into local-midnight bounds. Unknown keys fall back to today."""
    today = timezone.localtime(now or timezone.now(), local_zone()).date()
    tomorrow = _local_midnight(today + dt.timedelta(days=1))
    if key == "custom" and start and end:
        if end < start:
            start, end = end, start
        return Period("custom", _local_midnight(start), _local_midnight(end + dt.timedelta(days=1)), start, end)
    if key in ("7d", "30d"):
        first = today - dt.timedelta(days=(7 if key == "7d" else 30) - 1)
        return Period(key, _local_midnight(first), tomorrow, first, today)
    if key == "all":
        return Period("all", None, tomorrow, None, today)
    return Period("today", _local_midnight(today), tomorrow, today, today)


@dataclass(frozen=True)
class DashboardFilters:
    agent_id: int | None = None
    team_member_id: int | None = None
    campaign_id: int | None = None
    provider: str = ""  # "", "ai" or "human"

    @property
    def wants_ai(self) -> bool:
        return self.provider in ("", "ai")

    @property
    def wants_human(self) -> bool:
        return self.provider in ("", "human") and not self.agent_id and not self.campaign_id


def _in_period(qs: QuerySet, period: Period) -> QuerySet:
    qs = qs.filter(created_at__lt=period.end)
    if period.start is not None:
        qs = qs.filter(created_at__gte=period.start)
    return qs


def ai_calls(period: Period, filters: DashboardFilters) -> QuerySet[CallKaroCallLog]:
    """AI calls in the period under the agent, campaign and team-member filters (not the provider one)."""
    qs = _in_period(CallKaroCallLog.objects.all(), period)
    if filters.agent_id:
        qs = qs.filter(agent_id=filters.agent_id)
    if filters.campaign_id:
        qs = qs.filter(campaign_id=filters.campaign_id)
    if filters.team_member_id:
        qs = qs.filter(team_member_id=filters.team_member_id)
    return qs.order_by()


def human_calls(period: Period, filters: DashboardFilters) -> QuerySet[AcefoneCallLog]:
    """Acefone calls in the period; none when an agent or campaign filter is set (AI-only notions)."""
    if filters.agent_id or filters.campaign_id:
        return AcefoneCallLog.objects.none()
    qs = _in_period(AcefoneCallLog.objects.all(), period)
    if filters.team_member_id:
        qs = qs.filter(team_member_id=filters.team_member_id)
    return qs.order_by()


def _kpi_aggregates(*, with_conversions: bool) -> dict[str, Any]:
    aggs: dict[str, Any] = {
        "calls": Count("id"),
        "settled": Count("id", filter=Q(status__in=SETTLED_STATUSES)),
        "connected": Count("id", filter=CONNECTED),
        "completed": Count("id", filter=Q(status=CallStatus.COMPLETED)),
        "no_answer": Count("id", filter=Q(status__in=NO_ANSWER_STATUSES)),
        "failed": Count("id", filter=Q(status=CallStatus.FAILED)),
        "talk_seconds": Sum("duration_seconds"),
    }
    if with_conversions:
        aggs["conversions"] = Count("id", filter=Q(converted=True))
    return aggs


@dataclass
class Kpis:
    calls: int = 0
    settled: int = 0
    connected: int = 0
    completed: int = 0
    no_answer: int = 0
    failed: int = 0
    talk_seconds: int = 0
    conversions: int | None = 0
    days: int = 1

    @property
    def connect_rate(self) -> float | None:
        return _rate(self.connected, self.settled)

    @property
    def conversion_rate(self) -> float | None:
        return None if self.conversions is None else _rate(self.conversions, self.connected)

    @property
    def avg_talk_seconds(self) -> float | None:
        return round(self.talk_seconds / self.connected, 1) if self.connected else None

    @property
    def talk_minutes(self) -> float:
        return round(self.talk_seconds / 60, 1)

    @property
    def calls_per_day(self) -> float:
        return round(self.calls / max(self.days, 1), 1)

    def __add__(self, other: Kpis) -> Kpis:
        conv = (
            None
            if self.conversions is None and other.conversions is None
            else ((self.conversions or 0) + (other.conversions or 0))
        )
        return Kpis(
            calls=self.calls + other.calls,
            settled=self.settled + other.settled,
            connected=self.connected + other.connected,
            completed=self.completed + other.completed,
            no_answer=self.no_answer + other.no_answer,
            failed=self.failed + other.failed,
            talk_seconds=self.talk_seconds + other.talk_seconds,
            conversions=conv,
            days=max(self.days, other.days),
        )


def _rate(part: int, whole: int) -> float | None:
    """A percentage with one decimal, or None when there is nothing to divide by."""
    return round(100.0 * part / whole, 1) if whole else None


def calls_by_day(qs: QuerySet, *, with_conversions: bool) -> list[dict[str, Any]]:
    """ONE grouped query: every KPI column per local day, plus the chart's outcome split."""
    aggs = _kpi_aggregates(with_conversions=with_conversions)
    aggs["other"] = Count("id", filter=~Q(status__in=(CallStatus.COMPLETED, CallStatus.FAILED, *NO_ANSWER_STATUSES)))
    rows = qs.annotate(day=TruncDate("created_at", tzinfo=local_zone())).values("day").annotate(**aggs).order_by("day")
    out = []
    for row in rows:
        day = row["day"]
        if isinstance(day, str):  # SQLite without a converter
            day = dt.date.fromisoformat(day)
        row["day"] = day
        row["talk_seconds"] = row["talk_seconds"] or 0
        out.append(row)
    return out


def kpis_from_days(rows: Iterable[dict[str, Any]], period: Period, *, with_conversions: bool) -> Kpis:
    """Sum the per-day rows into the KPI cards (no extra query)."""
    rows = list(rows)
    k = Kpis(conversions=0 if with_conversions else None)
    for row in rows:
        k.calls += row["calls"]
        k.settled += row["settled"]
        k.connected += row["connected"]
        k.completed += row["completed"]
        k.no_answer += row["no_answer"]
        k.failed += row["failed"]
        k.talk_seconds += row["talk_seconds"]
        if with_conversions:
            k.conversions += row["conversions"]
    if period.first_day is not None:
        k.days = (period.last_day - period.first_day).days + 1
    elif rows:
        k.days = (period.last_day - rows[0]["day"]).days + 1
    return k


def chart_series(period: Period, ai_rows: list[dict], human_rows: list[dict], filters: DashboardFilters) -> dict:
    """Labels (one per local day, gaps filled) and one stacked series per outcome."""
    per_day: dict[dt.date, dict[str, int]] = {}
    sources = ([ai_rows] if filters.wants_ai else []) + ([human_rows] if filters.wants_human else [])
    for rows in sources:
        for row in rows:
            bucket = per_day.setdefault(row["day"], dict.fromkeys(OUTCOMES, 0))
            for outcome in OUTCOMES:
                bucket[outcome] += row["no_answer" if outcome == "no_answer" else outcome]
    first = period.first_day or (min(per_day) if per_day else period.last_day)
    days = [first + dt.timedelta(days=i) for i in range((period.last_day - first).days + 1)]
    if len(days) > 400:  # all time over years: show only days with calls
        days = sorted(per_day)
    empty = dict.fromkeys(OUTCOMES, 0)
    return {
        "labels": [d.isoformat() for d in days],
        "series": {o: [per_day.get(d, empty)[o] for d in days] for o in OUTCOMES},
    }


def hangup_rows(qs: QuerySet[CallKaroCallLog]) -> list[dict[str, Any]]:
    """ONE grouped query: AI calls per hang-up reason (Call Karo's own outcome field)."""
    return list(qs.values("hangup_reason").annotate(calls=Count("id"), connected=Count("id", filter=CONNECTED)))


def hangup_breakdown(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    out = [
        {"reason": r["hangup_reason"] or "(none yet)", "calls": r["calls"], "connected": r["connected"]} for r in rows
    ]
    return sorted(out, key=lambda r: (-r["calls"], r["reason"]))


def agent_rows(qs: QuerySet[CallKaroCallLog]) -> list[dict[str, Any]]:
    """ONE grouped query: every KPI column per AI agent."""
    return list(qs.values("agent_id", "agent__name").annotate(**_kpi_aggregates(with_conversions=True)))


def agent_usage(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Calls, talk minutes, connect and conversion rate per AI agent."""
    out = [
        {
            "agent_id": r["agent_id"],
            "name": r["agent__name"] or "(no agent)",
            "calls": r["calls"],
            "settled": r["settled"],
            "connected": r["connected"],
            "talk_minutes": round((r["talk_seconds"] or 0) / 60, 1),
            "connect_rate": _rate(r["connected"], r["settled"]),
            "conversions": r["conversions"],
            "conversion_rate": _rate(r["conversions"], r["connected"]),
        }
        for r in rows
    ]
    return sorted(out, key=lambda r: (-r["calls"], r["name"]))


def team_rows(qs: QuerySet, *, with_conversions: bool) -> list[dict[str, Any]]:
    """ONE grouped query per provider: every KPI column per team member."""
    return list(
        qs.values("team_member_id", "team_member__name").annotate(**_kpi_aggregates(with_conversions=with_conversions))
    )


def team_usage(ai_rows: Iterable[dict], human_rows: Iterable[dict], filters: DashboardFilters) -> list[dict[str, Any]]:
    """Calls started (AI and human), connect rate and conversions per team member."""
    merged: dict[Any, dict[str, Any]] = {}
    sources = ([(ai_rows, "ai")] if filters.wants_ai else []) + ([(human_rows, "human")] if filters.wants_human else [])
    for rows, provider in sources:
        for r in rows:
            m = merged.setdefault(
                r["team_member_id"],
                {
                    "name": r["team_member__name"] or "(nobody)",
                    "ai_calls": 0,
                    "human_calls": 0,
                    "settled": 0,
                    "connected": 0,
                    "conversions": 0,
                    "talk_seconds": 0,
                },
            )
            m[f"{provider}_calls"] += r["calls"]
            m["settled"] += r["settled"]
            m["connected"] += r["connected"]
            m["talk_seconds"] += r["talk_seconds"] or 0
            m["conversions"] += r.get("conversions") or 0
    out = [
        {
            "team_member_id": member_id,
            **m,
            "calls": m["ai_calls"] + m["human_calls"],
            "connect_rate": _rate(m["connected"], m["settled"]),
            "talk_minutes": round(m["talk_seconds"] / 60, 1),
        }
        for member_id, m in merged.items()
    ]
    return sorted(out, key=lambda r: (-r["calls"], r["name"]))


#: The additive aggregates of a period, and the group keys that identify their rows.
_AGGREGATE_KEYS = {
    "ai_days": ("day",),
    "human_days": ("day",),
    "hangups": ("hangup_reason",),
    "agents": ("agent_id",),
    "team_ai": ("team_member_id",),
    "team_human": ("team_member_id",),
}


def period_aggregates(period: Period, filters: DashboardFilters) -> dict[str, list[dict[str, Any]]]:
    """The six grouped queries of a period. Every column is a count or a sum, so two adjacent periods'
    aggregates add up to the aggregates of their union (``aggregates_merge``)."""
    ai_qs, human_qs = ai_calls(period, filters), human_calls(period, filters)
    return {
        "ai_days": calls_by_day(ai_qs, with_conversions=True),
        "human_days": calls_by_day(human_qs, with_conversions=False),
        "hangups": hangup_rows(ai_qs) if filters.wants_ai else [],
        "agents": agent_rows(ai_qs) if filters.wants_ai else [],
        "team_ai": team_rows(ai_qs, with_conversions=True) if filters.wants_ai else [],
        "team_human": team_rows(human_qs, with_conversions=False) if filters.wants_human else [],
    }


def aggregates_merge(a: dict[str, list[dict]], b: dict[str, list[dict]]) -> dict[str, list[dict]]:
    """Add two periods' aggregates row by row (numbers summed, names kept)."""
    out = {}
    for name, keys in _AGGREGATE_KEYS.items():
        rows: dict[tuple, dict[str, Any]] = {}
        for row in [*a.get(name, []), *b.get(name, [])]:
            k = tuple(row[f] for f in keys)
            if k not in rows:
                rows[k] = dict(row)
                continue
            target = rows[k]
            for col, value in row.items():
                if col not in keys and isinstance(value, int) and not isinstance(value, bool):
                    target[col] = (target.get(col) or 0) + value
        out[name] = sorted(rows.values(), key=lambda r: r["day"]) if keys == ("day",) else list(rows.values())
    return out


def campaign_progress(filters: DashboardFilters, limit: int = CAMPAIGN_LIMIT) -> list[dict[str, Any]]:
    """ONE grouped query: the latest launched campaigns with their calls' progress (all time).

    Progress is settled calls over the campaign's planned leads (or its calls, if more);
    the completion rate is completed calls over settled ones.
    """
    if filters.provider == "human":
        return []
    latest = CallKaroCampaign.objects.exclude(status=CallKaroCampaign.Status.DRAFT)
    if filters.campaign_id:
        latest = latest.filter(pk=filters.campaign_id)
    if filters.agent_id:
        latest = latest.filter(agent_id=filters.agent_id)
    ids = latest.order_by("-created_at", "-id").values("pk")[:limit]
    rows = (
        CallKaroCampaign.objects.filter(pk__in=ids)
        .values("pk", "name", "status", "total_leads", "created_at")
        .annotate(
            # Counting calls.campaign_id (not calls.id) lets PostgreSQL answer from the (campaign, status)
            # index alone: an index-only scan over the campaigns' calls.
            n_calls=Count("calls__campaign"),
            n_settled=Count("calls__campaign", filter=Q(calls__status__in=SETTLED_STATUSES)),
            n_completed=Count("calls__campaign", filter=Q(calls__status=CallStatus.COMPLETED)),
        )
        .order_by("-created_at", "-pk")
    )
    out = []
    for r in rows:
        planned = max(r["total_leads"], r["n_calls"])
        out.append(
            {
                "id": r["pk"],
                "name": r["name"],
                "status": r["status"],
                "planned": planned,
                "calls": r["n_calls"],
                "settled": r["n_settled"],
                "completed": r["n_completed"],
                "progress": _rate(r["n_settled"], planned) or 0.0,
                "completion_rate": _rate(r["n_completed"], r["n_settled"]),
            }
        )
    return out


_RECENT_FIELDS = ("id", "created_at", "status", "duration_seconds", "lead_id", "lead__name", "team_member__name")


def recent_calls(ai_qs: QuerySet, human_qs: QuerySet, filters: DashboardFilters, limit: int = RECENT_LIMIT) -> list:
    """The latest calls of both providers (one indexed LIMIT query each), newest first."""
    rows: list[dict[str, Any]] = []
    if filters.wants_ai:
        has_transcript = ExpressionWrapper(~Q(transcript=""), output_field=BooleanField())
        ai_rows = (
            ai_qs.order_by("-created_at", "-id")
            .annotate(has_transcript=has_transcript)
            .values(*_RECENT_FIELDS, "agent__name", "hangup_reason", "recording_url", "has_transcript")[:limit]
        )
        rows.extend({**r, "provider": "ai"} for r in ai_rows)
    if filters.wants_human:
        for r in human_qs.order_by("-created_at", "-id").values(*_RECENT_FIELDS, "recording_url")[:limit]:
            rows.append({**r, "provider": "human", "agent__name": "", "hangup_reason": "", "has_transcript": False})
    for r in rows:
        r["lead_name"] = r.pop("lead__name")
        r["team_member_name"] = r.pop("team_member__name") or ""
        r["agent_name"] = r.pop("agent__name") or ""
    rows.sort(key=lambda r: (r["created_at"], r["id"]), reverse=True)
    return rows[:limit]


@dataclass
class DashboardFigures:
    period: Period
    filters: DashboardFilters
    kpis: Kpis
    ai: Kpis
    human: Kpis
    chart: dict
    hangups: list = field(default_factory=list)
    agents: list = field(default_factory=list)
    team: list = field(default_factory=list)
    campaigns: list = field(default_factory=list)
    recent: list = field(default_factory=list)
    computed_at: dt.datetime = field(default_factory=timezone.now)

    @property
    def compare(self) -> list[tuple[str, Kpis]]:
        """Human vs AI: the same KPI figures side by side (the provider filter does not apply)."""
        return [("ai", self.ai), ("human", self.human)]

    @property
    def chart_data(self) -> dict:
        """What the page hands to Chart.js through ``json_script``."""
        return {
            "over_time": self.chart,
            "hangups": {"labels": [h["reason"] for h in self.hangups], "values": [h["calls"] for h in self.hangups]},
        }


def figures_build(
    period: Period, filters: DashboardFilters, aggs: dict[str, list[dict]], campaigns: list, recent: list
) -> DashboardFigures:
    """Every widget from a period's aggregates (no query)."""
    ai_days, human_days = aggs["ai_days"], aggs["human_days"]
    ai = kpis_from_days(ai_days, period, with_conversions=True)
    human = kpis_from_days(human_days, period, with_conversions=False)
    if filters.provider == "ai":
        kpis = ai
    elif filters.provider == "human":
        kpis = human
    else:
        kpis = ai + human
        if ai_days or human_days:
            first = min(r["day"] for r in ai_days + human_days)
            kpis.days = (period.last_day - (period.first_day or first)).days + 1
    return DashboardFigures(
        period=period,
        filters=filters,
        kpis=kpis,
        ai=ai,
        human=human,
        chart=chart_series(period, ai_days, human_days, filters),
        hangups=hangup_breakdown(aggs["hangups"]),
        agents=agent_usage(aggs["agents"]),
        team=team_usage(aggs["team_ai"], aggs["team_human"], filters),
        campaigns=campaigns,
        recent=recent,
    )


def dashboard_figures(period: Period, filters: DashboardFilters) -> DashboardFigures:
    """Every widget's figures, uncached: at most 9 queries whatever the row count."""
    ai_qs, human_qs = ai_calls(period, filters), human_calls(period, filters)
    return figures_build(
        period,
        filters,
        period_aggregates(period, filters),
        campaign_progress(filters),
        recent_calls(ai_qs, human_qs, filters),
    )


#: How long the aggregates of days before today are reused. Those rows change only when a late webhook
#: settles an old call, so a few minutes of staleness there is harmless; today is always counted live.
ROLLUP_SECONDS = 300
#: Campaign progress counts every call of the latest campaigns (all time): kept for a short while.
CAMPAIGN_SECONDS = 15


def _cache_key(kind: str, *parts: Any) -> str:
    return f"callkaro:dashboard:{kind}:" + hashlib.sha256(repr(parts).encode()).hexdigest()[:32]


def dashboard_figures_cached(
    period: Period, filters: DashboardFilters, *, now: dt.datetime | None = None
) -> DashboardFigures:
    """The figures with closed days rolled up in the cache and today counted live.

    The period is split at today's local midnight: the aggregates of the earlier days come from the cache
    (computed once per ``ROLLUP_SECONDS`` for each period and filter set, and shared by every manager), and
    today's rows, a small index range, are aggregated on every request and added to them. So the numbers
    move live every 5 s while a 30-day or all-time view does not rescan a month or a million rows.
    """
    today = timezone.localtime(now or timezone.now(), local_zone()).date()
    midnight = _local_midnight(today)
    parts: list[dict[str, list[dict]]] = []
    if period.start is None or period.start < midnight:
        past = Period(period.key, period.start, min(period.end, midnight), period.first_day, period.last_day)
        key = _cache_key("rollup", past.start, past.end, asdict(filters))
        aggs = cache.get(key)
        if aggs is None:
            aggs = period_aggregates(past, filters)
            cache.set(key, aggs, ROLLUP_SECONDS)
        parts.append(aggs)
    if period.end > midnight:
        live = Period(period.key, max(period.start or midnight, midnight), period.end, today, period.last_day)
        parts.append(period_aggregates(live, filters))
    aggs = parts[0] if len(parts) == 1 else aggregates_merge(parts[0], parts[1])
    campaigns_key = _cache_key("campaigns", asdict(filters))
    campaigns = cache.get(campaigns_key)
    if campaigns is None:
        campaigns = campaign_progress(filters)
        cache.set(campaigns_key, campaigns, CAMPAIGN_SECONDS)
    recent = recent_calls(ai_calls(period, filters), human_calls(period, filters), filters)
    return figures_build(period, filters, aggs, campaigns, recent)


def filter_choices() -> dict[str, list[tuple[int, str]]]:
    """Options for the filter form (three small queries, only on the full page)."""
    from crm.models import TeamMember

    return {
        "agents": list(CallKaroAgent.objects.order_by("name").values_list("pk", "name")),
        "team_members": list(TeamMember.objects.order_by("name").values_list("pk", "name")),
        "campaigns": list(
            CallKaroCampaign.objects.exclude(status=CallKaroCampaign.Status.DRAFT)
            .order_by("-created_at")
            .values_list("pk", "name")[:200]
        ),
    }


# --- CSV export ------------------------------------------------------------------------------------------

EXPORT_HEADER = (
    "provider",
    "call_id",
    "created_at",
    "lead_id",
    "lead_name",
    "to_number",
    "team_member",
    "agent",
    "campaign",
    "status",
    "hangup_reason",
    "duration_seconds",
    "converted",
    "has_recording",
)
_AI_EXPORT = (
    "id",
    "created_at",
    "lead_id",
    "lead__name",
    "to_number",
    "team_member__name",
    "agent__name",
    "campaign__name",
    "status",
    "hangup_reason",
    "duration_seconds",
    "converted",
    "recording_url",
)
_HUMAN_EXPORT = (
    "id",
    "created_at",
    "lead_id",
    "lead__name",
    "to_number",
    "team_member__name",
    "status",
    "hangup_cause",
    "duration_seconds",
    "recording_url",
)
EXPORT_CHUNK = 2000


def mask_phone(number: str) -> str:
    """Keep the country code and the last three digits: ``+919812345678`` → ``+91•••••••678``."""
    if not number:
        return ""
    digits = number.lstrip("+")
    keep_head = 2 if number.startswith("+") else 0
    if len(digits) <= keep_head + 3:
        return "•" * len(digits)
    head, tail = digits[:keep_head], digits[-3:]
    return ("+" if number.startswith("+") else "") + head + "•" * (len(digits) - keep_head - 3) + tail


def _cell(value: Any) -> Any:
    """Neutralise spreadsheet formulas in free text (lead names come from ad forms)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def export_rows(period: Period, filters: DashboardFilters) -> Iterable[tuple]:
    """The filtered call logs as CSV rows, streamed in chunks of 2,000 (constant memory)."""
    yield EXPORT_HEADER
    zone = local_zone()
    if filters.wants_ai:
        qs = ai_calls(period, filters).order_by("created_at", "id").values_list(*_AI_EXPORT)
        for (
            pk,
            created,
            lead_id,
            lead_name,
            number,
            member,
            agent,
            campaign,
            status,
            reason,
            duration,
            converted,
            rec,
        ) in qs.iterator(chunk_size=EXPORT_CHUNK):
            yield (
                "ai",
                pk,
                created.astimezone(zone).isoformat(timespec="seconds"),
                lead_id,
                _cell(lead_name),
                mask_phone(number),
                _cell(member or ""),
                _cell(agent or ""),
                _cell(campaign or ""),
                status,
                reason,
                duration if duration is not None else "",
                "" if converted is None else ("yes" if converted else "no"),
                "yes" if rec else "no",
            )
    if filters.wants_human:
        qs = human_calls(period, filters).order_by("created_at", "id").values_list(*_HUMAN_EXPORT)
        for pk, created, lead_id, lead_name, number, member, status, cause, duration, rec in qs.iterator(
            chunk_size=EXPORT_CHUNK
        ):
            yield (
                "human",
                pk,
                created.astimezone(zone).isoformat(timespec="seconds"),
                lead_id,
                _cell(lead_name),
                mask_phone(number),
                _cell(member or ""),
                "",
                "",
                status,
                cause,
                duration if duration is not None else "",
                "",
                "yes" if rec else "no",
            )
