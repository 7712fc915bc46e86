"""The dashboard's CSV export: the filtered call logs, streamed in chunks, phone numbers masked."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from telephony import calls

from .periods import DashboardFilters, Period, local_zone
from .selectors import provider_calls

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
#: Every provider's calls carry these columns.
_COMMON = ("id", "created_at", "lead_id", "lead__name", "to_number", "team_member__name", "status")
#: Export columns some providers' calls carry, by the field that must exist (blank for the others).
_OPTIONAL = {"agent": "agent__name", "campaign": "campaign__name", "converted": "converted"}
#: The provider's own hang-up field, whichever it has.
_HANGUP_FIELDS = ("hangup_reason", "hangup_cause")
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


#: A cell starting with one of these is a formula to a spreadsheet (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "|", "%")
#: A signed number (or a masked phone number such as ``+91•••678``) is data, not a formula.
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9.•]+")


def csv_safe_cell(value: Any) -> Any:
    """Neutralise a spreadsheet formula in any text cell: every column may come from outside
    (lead names from ad forms, hang-up reasons and agent names from providers)."""
    if isinstance(value, str) and value.lstrip(" ")[:1] in FORMULA_STARTS and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def csv_safe_row(row: Iterable[Any]) -> tuple:
    """One row with every cell neutralised (applied to every row, never per column)."""
    return tuple(csv_safe_cell(value) for value in row)


def _fields(provider: str) -> list[str]:
    """The columns to read for this provider: the common ones, then hang-up, duration, recording and
    the optional ones it carries (``None`` where it has no such column)."""
    hangup = next((f for f in _HANGUP_FIELDS if calls.call_log_has(provider, f)), None)
    recording = "recording_url" if calls.call_log_has(provider, "recording_url") else None
    optional = [column if calls.call_log_has(provider, field) else None for field, column in _OPTIONAL.items()]
    return [*_COMMON, hangup, "duration_seconds", recording, *optional]


def _provider_rows(provider: str, period: Period, filters: DashboardFilters) -> Iterable[tuple]:
    """One provider's filtered calls as CSV rows, in one streamed query."""
    fields = _fields(provider)
    read = [f for f in fields if f is not None]
    qs = provider_calls(provider, period, filters).order_by("created_at", "id").values_list(*read)
    zone = local_zone()
    for values in qs.iterator(chunk_size=EXPORT_CHUNK):
        got = dict(zip(read, values, strict=True))
        pk, created, lead_id, lead_name, number, member, status = (got[f] for f in _COMMON)
        hangup, duration, rec, agent, campaign, converted = (got.get(f) for f in fields[len(_COMMON) :])
        yield (
            provider,
            pk,
            created.astimezone(zone).isoformat(timespec="seconds"),
            lead_id,
            lead_name,
            mask_phone(number),
            member or "",
            agent or "",
            campaign or "",
            status,
            hangup or "",
            duration if duration is not None else "",
            "" if converted is None else ("yes" if converted else "no"),
            "yes" if rec else "no",
        )


def export_rows(period: Period, filters: DashboardFilters) -> Iterable[tuple]:
    """The filtered call logs as CSV rows, provider by provider, streamed in chunks of 2,000 (constant memory)."""
    yield EXPORT_HEADER
    for provider in filters.providers:
        for row in _provider_rows(provider, period, filters):
            yield csv_safe_row(row)
