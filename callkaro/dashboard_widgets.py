"""The dashboard's widgets shaped from grouped rows, with no query of their own.

Every input row is made of counts and sums, so rows of adjacent ranges (roll-up days and today's live
rows) add up to the rows of their union (``aggregates_merge``); the widgets cannot tell them apart.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from .dashboard_periods import DashboardFilters, Period

#: Chart series: the stacked outcomes, in drawing order.
OUTCOMES = ("completed", "no_answer", "failed", "other")


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
        return rate(self.connected, self.settled)

    @property
    def conversion_rate(self) -> float | None:
        return None if self.conversions is None else rate(self.conversions, self.connected)

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


def rate(part: int, whole: int) -> float | None:
    """A percentage with one decimal, or None when there is nothing to divide by."""
    return round(100.0 * part / whole, 1) if whole else None


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


def hangup_breakdown(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    out = [
        {"reason": r["hangup_reason"] or "(none yet)", "calls": r["calls"], "connected": r["connected"]} for r in rows
    ]
    return sorted(out, key=lambda r: (-r["calls"], r["reason"]))


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
            "connect_rate": rate(r["connected"], r["settled"]),
            "conversions": r["conversions"],
            "conversion_rate": rate(r["conversions"], r["connected"]),
        }
        for r in rows
    ]
    return sorted(out, key=lambda r: (-r["calls"], r["name"]))


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
            "connect_rate": rate(m["connected"], m["settled"]),
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
