"""Legal calling hours (TRAI: no commercial call between 21:00 and 09:00 in the callee's zone).

An admin may narrow the window (``CALLING_HOURS`` or the calling policy row), never widen it: a
narrowing that reaches outside the legal window is clamped to it, and an overnight one is refused.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.utils import timezone

LEGAL_START = dt.time(9, 0)
LEGAL_END = dt.time(21, 0)


@dataclass(frozen=True)
class Window:
    start: dt.time
    end: dt.time

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


def window_parse(text: str) -> Window:
    """``"HH:MM-HH:MM"`` -> Window; ValueError (with a message a person can act on) otherwise."""
    try:
        start_text, end_text = (part.strip() for part in str(text).split("-"))
        start, end = dt.time.fromisoformat(start_text), dt.time.fromisoformat(end_text)
    except ValueError:
        raise ValueError(f"Calling hours must look like 09:00-21:00, not {text!r}.") from None
    window_check(start, end)
    return Window(start, end)


def window_check(start: dt.time, end: dt.time) -> None:
    """Refuse an overnight window and one reaching outside the legal hours (ValueError)."""
    if start >= end:
        raise ValueError("Calling hours must end after they start on the same day (no overnight window).")
    if start < LEGAL_START or end > LEGAL_END:
        raise ValueError(f"Calling hours must lie inside the legal window {LEGAL_START:%H:%M}-{LEGAL_END:%H:%M}.")


def _clamped(window: Window) -> Window:
    start, end = max(window.start, LEGAL_START), min(window.end, LEGAL_END)
    return Window(start, end) if start < end else Window(LEGAL_START, LEGAL_END)


def calling_window() -> Window:
    """The window in force: the policy row's, else the setting's, never wider than the legal one."""
    from .models import CallingPolicy

    return window_from(CallingPolicy.objects.values_list("calling_hours", flat=True).first())


def window_from(policy_text: str | None) -> Window:
    """The window for the policy row's value (None or blank: the setting's), clamped to the legal one."""
    text = policy_text or settings.CALLING_HOURS
    try:
        start, end = (dt.time.fromisoformat(p.strip()) for p in str(text).split("-"))
    except ValueError:
        return Window(LEGAL_START, LEGAL_END)
    if start >= end:  # an overnight value in the environment would widen the window: ignore it
        return Window(LEGAL_START, LEGAL_END)
    return _clamped(Window(start, end))


def zone_for(name: str | None) -> ZoneInfo:
    """A lead's zone; blank or unknown means the project's."""
    try:
        return ZoneInfo(name) if name else ZoneInfo(settings.TIME_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(settings.TIME_ZONE)


def inside_hours(zone_name: str | None, at: dt.datetime | None = None, window: Window | None = None) -> bool:
    window = window or calling_window()
    local = (at or timezone.now()).astimezone(zone_for(zone_name)).time()
    return window.start <= local < window.end


def next_opening(zone_name: str | None, at: dt.datetime | None = None, window: Window | None = None) -> dt.datetime:
    """When the window next opens in that zone (today's opening if still ahead, else tomorrow's)."""
    window = window or calling_window()
    zone = zone_for(zone_name)
    local = (at or timezone.now()).astimezone(zone)
    day = local.date() if local.time() < window.start else local.date() + dt.timedelta(days=1)
    return dt.datetime.combine(day, window.start, tzinfo=zone)
