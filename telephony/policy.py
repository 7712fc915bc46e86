"""The admin's calling policy row (narrower hours, the gap between AI calls), read and saved here."""

from __future__ import annotations

from django.db import transaction

from .calling_hours import window_parse
from .models import CallingPolicy


def calling_policy_values() -> dict[str, object]:
    """What the config page shows: only values saved there (blank means the settings' defaults)."""
    row = CallingPolicy.objects.first()
    return {"calling_hours": row.calling_hours if row else "", "min_gap_hours": row.min_gap_hours if row else None}


@transaction.atomic
def calling_policy_save(*, calling_hours: str, min_gap_hours: int | None) -> CallingPolicy:
    """Save the narrowing; a window outside the legal hours or overnight raises ValueError."""
    calling_hours = calling_hours.strip()
    if calling_hours:
        calling_hours = str(window_parse(calling_hours))
    row = CallingPolicy.objects.select_for_update().first() or CallingPolicy()
    row.calling_hours, row.min_gap_hours = calling_hours, min_gap_hours
    row.save()
    return row
