"""A Graph lead (``field_data`` and ad names) as the fields of a CRM lead. Pure: no database."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import phonenumbers
from django.conf import settings

from crm.models import LeadSource

#: Meta's ``platform`` values; anything else is counted as Facebook, the default placement.
PLATFORM_SOURCES = {"fb": LeadSource.META_FACEBOOK, "ig": LeadSource.META_INSTAGRAM}
NAME_KEYS = ("full_name", "name")
PHONE_KEYS = ("phone_number", "phone", "mobile_number", "whatsapp_number")
EMAIL_KEYS = ("email", "work_email")
CITY_KEYS = ("city",)


@dataclass(frozen=True)
class MappedLead:
    """What we take from one lead, whichever way it came (Graph, or a row of an imported file)."""

    name: str
    phone: str  # E.164 when valid, else what was given
    phone_valid: bool
    email: str = ""
    city: str = ""
    source: str = LeadSource.META_FACEBOOK
    answers: dict[str, str] = field(default_factory=dict)
    meta_lead_id: str = ""
    form_id: str = ""
    ad_name: str = ""
    adset_name: str = ""
    campaign_name: str = ""
    created_at: datetime | None = None


def phone_e164(raw: str, region: str | None = None) -> tuple[str, bool]:
    """(E.164, True) for a valid number; (the input, False) for anything else."""
    text = (raw or "").strip()
    try:
        number = phonenumbers.parse(text, region or settings.PHONENUMBER_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return text[:40], False
    if not phonenumbers.is_valid_number(number):
        return text[:40], False
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), True


def graph_time(value: Any) -> datetime | None:
    """Graph's ``2026-11-30T07:41:02+0000`` (or an epoch number) as an aware datetime."""
    if value in (None, ""):
        return None
    if isinstance(value, int | float):
        from datetime import UTC

        return datetime.fromtimestamp(value, tz=UTC)
    for fmt in ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%f%z"):
        try:
            return datetime.strptime(str(value), fmt)
        except ValueError:
            continue
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


def form_answers(field_data: Any) -> dict[str, str]:
    """``[{name, values}]`` as ``{name: "v1, v2"}``; every answer is kept."""
    answers: dict[str, str] = {}
    for item in field_data if isinstance(field_data, list) else []:
        if not isinstance(item, dict) or not item.get("name"):
            continue
        values = item.get("values")
        values = values if isinstance(values, list) else [values]
        answers[str(item["name"])[:100]] = ", ".join(str(v) for v in values if v not in (None, ""))[:1000]
    return answers


def _first(answers: dict[str, str], keys: tuple[str, ...]) -> str:
    lowered = {k.lower(): v for k, v in answers.items()}
    return next((lowered[k] for k in keys if lowered.get(k)), "")


def lead_from_graph(data: dict[str, Any]) -> MappedLead:
    answers = form_answers(data.get("field_data"))
    name = _first(answers, NAME_KEYS)
    if not name:
        lowered = {k.lower(): v for k, v in answers.items()}
        name = " ".join(p for p in (lowered.get("first_name", ""), lowered.get("last_name", "")) if p)
    phone, valid = phone_e164(_first(answers, PHONE_KEYS))
    return MappedLead(
        name=(name or "Meta lead")[:160],
        phone=phone,
        phone_valid=valid,
        email=_first(answers, EMAIL_KEYS)[:254],
        city=_first(answers, CITY_KEYS)[:80],
        source=PLATFORM_SOURCES.get(str(data.get("platform", "")).lower(), LeadSource.META_FACEBOOK),
        answers=answers,
        meta_lead_id=str(data.get("id", ""))[:64],
        form_id=str(data.get("form_id", "") or "")[:64],
        ad_name=str(data.get("ad_name", "") or "")[:160],
        adset_name=str(data.get("adset_name", "") or "")[:160],
        campaign_name=str(data.get("campaign_name", "") or "")[:160],
        created_at=graph_time(data.get("created_time")),
    )
