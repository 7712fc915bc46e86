"""The do-not-call list shared by both providers, and the pre-dial check that enforces it."""

from __future__ import annotations

from typing import Any

import phonenumbers
from django.conf import settings
from django.db import IntegrityError, transaction

from .models import DoNotCallEntry, TeamMember


def normalise_number(number: Any) -> str:
    """E.164 for a number in any common form, or "" when it is not a valid number."""
    raw = str(number or "").strip()
    if not raw:
        return ""
    try:
        parsed = phonenumbers.parse(raw, settings.PHONENUMBER_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_valid_number(parsed):
        return ""
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def is_do_not_call(number: Any) -> bool:
    e164 = normalise_number(number) or str(number or "").strip()
    return bool(e164) and DoNotCallEntry.objects.filter(phone=e164).exists()


def dnc_numbers_among(numbers: list[str]) -> set[str]:
    """Which of these E.164 numbers are listed: one query for a whole chunk (the campaign preview)."""
    return set(DoNotCallEntry.objects.filter(phone__in=numbers).values_list("phone", flat=True))


def dnc_add(
    *,
    number: Any,
    reason: str = "",
    source: str = DoNotCallEntry.Source.MANUAL,
    created_by: TeamMember | None = None,
) -> DoNotCallEntry:
    """Add a number (idempotent: an existing entry is kept as it is). Raises ValueError on a bad number."""
    e164 = normalise_number(number)
    if not e164:
        raise ValueError(f"Not a valid phone number: {number!r}")
    try:
        with transaction.atomic():
            entry, _ = DoNotCallEntry.objects.get_or_create(
                phone=e164, defaults={"reason": reason[:300], "source": source, "created_by": created_by}
            )
    except IntegrityError:  # a concurrent add of the same number won
        entry = DoNotCallEntry.objects.get(phone=e164)
    return entry


def dnc_remove(*, number: Any) -> bool:
    e164 = normalise_number(number) or str(number or "").strip()
    deleted, _ = DoNotCallEntry.objects.filter(phone=e164).delete()
    return bool(deleted)


def do_not_call_check(call_log: Any) -> str | None:
    """Pre-dial check (registered in ``CrmConfig.ready``): a listed number, or a lead flagged do-not-call."""
    lead = getattr(call_log, "lead", None)
    if lead is not None and lead.do_not_call:
        return "Lead is marked do-not-call"
    if is_do_not_call(call_log.to_number):
        return "Number is on the do-not-call list"
    return None
