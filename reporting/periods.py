"""The dashboard's periods and filters: local days in ``settings.TIME_ZONE`` (Asia/Kolkata).

"Today" starts at local midnight and "7 days" is today and the six days before it. Agent and campaign
filters apply only to providers whose calls carry an agent or a campaign (Call Karo's), so they exclude
the others' calls. The provider filter takes a provider key (``callkaro``, ``acefone``) or "" for all.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from telephony import calls

PERIODS = {"today": "Today", "7d": "7 days", "30d": "30 days", "all": "All time", "custom": "Custom range"}


def provider_choices() -> dict[str, str]:
    """The provider filter's options: every provider key with its label, and "" for all of them."""
    return {"": "All providers", **calls.provider_labels()}


def local_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def local_today(now: dt.datetime | None = None) -> dt.date:
    return timezone.localtime(now or timezone.now(), local_zone()).date()


def local_midnight(day: dt.date) -> dt.datetime:
    """The aware start of a local day: the one boundary every period and the roll-up share."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=local_zone())


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


def period_resolve(
    key: str, *, start: dt.date | None = None, end: dt.date | None = None, now: dt.datetime | None = None
) -> Period:
    """Turn a period choice into local-midnight bounds. Unknown keys fall back to today."""
    today = local_today(now)
    tomorrow = local_midnight(today + dt.timedelta(days=1))
    if key == "custom" and start and end:
        if end < start:
            start, end = end, start
        return Period("custom", local_midnight(start), local_midnight(end + dt.timedelta(days=1)), start, end)
    if key in ("7d", "30d"):
        first = today - dt.timedelta(days=(7 if key == "7d" else 30) - 1)
        return Period(key, local_midnight(first), tomorrow, first, today)
    if key == "all":
        return Period("all", None, tomorrow, None, today)
    return Period("today", local_midnight(today), tomorrow, today, today)


@dataclass(frozen=True)
class DashboardFilters:
    agent_id: int | None = None
    team_member_id: int | None = None
    campaign_id: int | None = None
    provider: str = ""  # "" (every provider) or a provider key

    def wants(self, provider: str) -> bool:
        """Whether this provider's calls pass the filters: the provider filter, and agent or campaign
        filters only where its calls carry an agent or a campaign."""
        if self.provider not in ("", provider):
            return False
        if self.agent_id and not calls.call_log_has(provider, "agent"):
            return False
        return not (self.campaign_id and not calls.call_log_has(provider, "campaign"))

    @property
    def providers(self) -> list[str]:
        """The provider keys the filters let through, in registry order."""
        return [p for p in calls.call_log_models() if self.wants(p)]
