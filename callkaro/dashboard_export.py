"""The dashboard's CSV export: the filtered call logs, streamed in chunks, phone numbers masked."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .dashboard import ai_calls, human_calls
from .dashboard_periods import DashboardFilters, Period, local_zone

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
