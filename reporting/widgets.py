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

from .periods import DashboardFilters, Period

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


def chart_series(period: Period, days: dict[str, list[dict]], filters: DashboardFilters) -> dict:
    """Labels (one per local day, gaps filled) and one stacked series per outcome, over the wanted providers."""
    per_day: dict[dt.date, dict[str, int]] = {}
    for provider, rows in days.items():
        if not filters.wants(provider):
            continue
        for row in rows:
            bucket = per_day.setdefault(row["day"], dict.fromkeys(OUTCOMES, 0))
            for outcome in OUTCOMES:
                bucket[outcome] += row[outcome]
    first = period.first_day or (min(per_day) if per_day else period.last_day)
    days_shown = [first + dt.timedelta(days=i) for i in range((period.last_day - first).days + 1)]
    if len(days_shown) > 400:  # all time over years: show only days with calls
        days_shown = sorted(per_day)
    empty = dict.fromkeys(OUTCOMES, 0)
    return {
        "labels": [d.isoformat() for d in days_shown],
        "series": {o: [per_day.get(d, empty)[o] for d in days_shown] for o in OUTCOMES},
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


def team_usage(team: dict[str, list[dict]], filters: DashboardFilters) -> list[dict[str, Any]]:
    """Calls started (per provider, in registry order), connect rate and conversions per team member."""
    providers = list(team)
    merged: dict[Any, dict[str, Any]] = {}
    for provider, rows in team.items():
        if not filters.wants(provider):
            continue
        for r in rows:
            m = merged.setdefault(
                r["team_member_id"],
                {
                    "name": r["team_member__name"] or "(nobody)",
                    "by_provider": dict.fromkeys(providers, 0),
                    "settled": 0,
                    "connected": 0,
                    "conversions": 0,
                    "talk_seconds": 0,
                },
            )
            m["by_provider"][provider] += r["calls"]
            m["settled"] += r["settled"]
            m["connected"] += r["connected"]
            m["talk_seconds"] += r["talk_seconds"] or 0
            m["conversions"] += r.get("conversions") or 0
    out = [
        {
            "team_member_id": member_id,
            **m,
            "calls": sum(m["by_provider"].values()),
            "provider_calls": list(m["by_provider"].values()),
            "connect_rate": rate(m["connected"], m["settled"]),
            "talk_minutes": round(m["talk_seconds"] / 60, 1),
        }
        for member_id, m in merged.items()
    ]
    return sorted(out, key=lambda r: (-r["calls"], r["name"]))


def _rows_merge(rows_a: list[dict], rows_b: list[dict], keys: tuple[str, ...]) -> list[dict]:
    rows: dict[tuple, dict[str, Any]] = {}
    for row in [*rows_a, *rows_b]:
        k = tuple(row[f] for f in keys)
        if k not in rows:
            rows[k] = dict(row)
            continue
        target = rows[k]
        for col, value in row.items():
            if col not in keys and isinstance(value, int) and not isinstance(value, bool):
                target[col] = (target.get(col) or 0) + value
    return sorted(rows.values(), key=lambda r: r["day"]) if keys == ("day",) else list(rows.values())


def aggregates_merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Add two periods' aggregates row by row (numbers summed, names kept).

    Shape: ``days`` and ``team`` map a provider key to its rows; ``hangups`` and ``agents`` are rows."""
    out: dict[str, Any] = {
        "hangups": _rows_merge(a.get("hangups", []), b.get("hangups", []), ("hangup_reason",)),
        "agents": _rows_merge(a.get("agents", []), b.get("agents", []), ("agent_id",)),
    }
    for name, keys in (("days", ("day",)), ("team", ("team_member_id",))):
        providers = list(dict.fromkeys([*a.get(name, {}), *b.get(name, {})]))
        out[name] = {p: _rows_merge(a[name].get(p, []), b[name].get(p, []), keys) for p in providers}
    return out


@dataclass
class DashboardFigures:
    period: Period
    filters: DashboardFilters
    kpis: Kpis
    by_provider: dict[str, Kpis]
    chart: dict
    labels: dict[str, str] = field(default_factory=dict)
    hangups: list = field(default_factory=list)
    agents: list = field(default_factory=list)
    team: list = field(default_factory=list)
    campaigns: list = field(default_factory=list)
    recent: list = field(default_factory=list)
    computed_at: dt.datetime = field(default_factory=timezone.now)

    @property
    def voicemail(self) -> int:
        """Calls an answering machine took: their own bucket, never "connected" (definitions)."""
        from .definitions import VOICEMAIL_REASONS

        return sum(h["calls"] for h in self.hangups if h["reason"] in VOICEMAIL_REASONS)

    @property
    def compare(self) -> list[tuple[str, str, Kpis]]:
        """Provider against provider: ``(key, label, kpis)``, the same figures side by side (the provider
        filter does not apply)."""
        return [(p, self.labels.get(p, p), k) for p, k in self.by_provider.items()]

    @property
    def team_columns(self) -> list[str]:
        """Labels of the team table's per-provider columns, in the order of ``provider_calls``."""
        return [self.labels.get(p, p) for p in self.by_provider]

    @property
    def chart_data(self) -> dict:
        """What the page hands to Chart.js through ``json_script``."""
        return {
            "over_time": self.chart,
            "hangups": {"labels": [h["reason"] for h in self.hangups], "values": [h["calls"] for h in self.hangups]},
        }


def _kpis_total(period: Period, by_provider: dict[str, Kpis], days: dict[str, list[dict]], filters) -> Kpis:
    """The KPI cards: the filtered provider's figures, or every provider's added up."""
    if filters.provider:
        return by_provider.get(filters.provider, Kpis())
    total = Kpis(conversions=None)
    for k in by_provider.values():
        total = total + k
    all_rows = [r for rows in days.values() for r in rows]
    if all_rows:
        first = min(r["day"] for r in all_rows)
        total.days = (period.last_day - (period.first_day or first)).days + 1
    return total


def figures_build(
    period: Period,
    filters: DashboardFilters,
    aggs: dict[str, Any],
    campaigns: list,
    recent: list,
    *,
    labels: dict[str, str],
    conversions: dict[str, bool],
) -> DashboardFigures:
    """Every widget from a period's aggregates (no query). ``conversions`` says which providers report them."""
    days = aggs["days"]
    by_provider = {p: kpis_from_days(rows, period, with_conversions=conversions[p]) for p, rows in days.items()}
    return DashboardFigures(
        period=period,
        filters=filters,
        kpis=_kpis_total(period, by_provider, days, filters),
        by_provider=by_provider,
        labels=labels,
        chart=chart_series(period, days, filters),
        hangups=hangup_breakdown(aggs["hangups"]),
        agents=agent_usage(aggs["agents"]),
        team=team_usage(aggs["team"], filters),
        campaigns=campaigns,
        recent=recent,
    )
