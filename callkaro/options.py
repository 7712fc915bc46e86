"""Call Karo's call options: one value from a rep's click (or a campaign) to the HTTP body.

``CallKaroOptions`` owns the documented limits of ``POST /call/outbound`` (docs/architecture.md,
"Call Karo options") and the conversions: from form data or JSON (``from_data``), to the call-log
row (``to_row_fields``) and back (``from_row``), to a form's initial values (``to_initial``) and
to the request body (``to_body``). Forms use its cleaners, so every limit is written once, here.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.utils.dateparse import parse_time

from telephony.base import CallOptions
from telephony.errors import ProviderRejected

from .models import CallKaroAgent

LANGUAGES = tuple(CallKaroAgent.Language.values)  # hi en kn mr ta te bn gu ml
RETRIES_MIN, RETRIES_MAX = 0, 10
PRIORITY_MIN, PRIORITY_MAX = -100, 100
GAP_MIN_MINUTES, GAP_MAX_MINUTES, GAPS_MAX = 1, 1440, 10
HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
SCHEDULE_AT_FORMAT = "%Y-%m-%dT%H:%M:%S"  # no zone: Call Karo reads it in the account's zone
#: The call-log columns the options are stored in (``carry_over`` included).
ROW_FIELDS = (
    "language",
    "number_of_retries",
    "gap_between_retries",
    "priority",
    "min_trigger_time",
    "max_trigger_time",
    "carry_over",
)


class CallKaroOptionsInvalid(ProviderRejected):
    """An option outside Call Karo's documented limits: refused by us before anything is sent."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message, field=field, provider="callkaro")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _int_in(value: Any, low: int, high: int, name: str, label: str) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        value = int(value)
    if not _is_int(value) or not low <= value <= high:
        raise CallKaroOptionsInvalid(f"{label} must be a whole number from {low} to {high}", name)
    return value


def clean_number_of_retries(value: Any) -> int | None:
    """0 to 10 retries, or None (Call Karo's default)."""
    return _int_in(value, RETRIES_MIN, RETRIES_MAX, "number_of_retries", "Retries")


def clean_priority(value: Any) -> int | None:
    """-100 to 100, or None."""
    return _int_in(value, PRIORITY_MIN, PRIORITY_MAX, "priority", "Priority")


def clean_gap_between_retries(value: Any) -> int | list[int] | None:
    """The one retry-gap parser: minutes, one int or a list of ints, each 1 to 1440, at most 10.

    Accepts ``5``, ``"5"`` (an int), ``"5,10"``, ``"[5, 10]"`` and ``[5]`` (lists, kept as lists).
    Empty means none. Anything else (words, fractions, booleans, zero) is refused.
    """
    if value in (None, "", []):
        return None
    error = CallKaroOptionsInvalid(
        f"Retry gaps are whole minutes from {GAP_MIN_MINUTES} to {GAP_MAX_MINUTES}, at most {GAPS_MAX} "
        "of them, e.g. 30 or 30,60,120",
        "gap_between_retries",
    )
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except ValueError:
                raise error from None
        elif "," in text:
            value = [part.strip() for part in text.split(",") if part.strip()]
        else:
            value = text
    items = value if isinstance(value, list) else [value]
    ints = []
    for item in items:
        if isinstance(item, str) and item.isdigit():
            item = int(item)
        if not _is_int(item) or not GAP_MIN_MINUTES <= item <= GAP_MAX_MINUTES:
            raise error
        ints.append(item)
    if not ints or len(ints) > GAPS_MAX:
        raise error
    return ints if isinstance(value, list) else ints[0]


def gaps_as_list(value: int | list[int] | None) -> list[int]:
    """A cleaned gap value as a list (campaigns store their gaps as a list)."""
    return [] if value is None else list(value) if isinstance(value, list) else [value]


def clean_language(value: Any) -> str:
    """One of Call Karo's languages, or "" (the agent's own)."""
    if value in (None, ""):
        return ""
    if value not in LANGUAGES:
        raise CallKaroOptionsInvalid("Choose a language from the list", "language")
    return value


#: Option names in a person's words, for messages (never the API's field names).
_TIME_WORDS = {
    "min_trigger_time": "The earliest call time",
    "max_trigger_time": "The latest call time",
    "calling_hours_start": "The start of the calling hours",
    "calling_hours_end": "The end of the calling hours",
}


def clean_trigger_time(value: Any, name: str = "min_trigger_time") -> str:
    """``HH:MM`` exactly (a ``datetime.time`` is formatted), or ""."""
    if value in (None, ""):
        return ""
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    if not isinstance(value, str) or not HHMM.match(value):
        raise CallKaroOptionsInvalid(f"{_TIME_WORDS.get(name, 'The time')} must be a time such as 09:30", name)
    return value


def parse_time_of_day(value: Any, name: str) -> dt.time | None:
    """A time a person typed (``9:00``, ``09:00``, ``09:00:00``) for a campaign's calling hours."""
    if value in (None, ""):
        return None
    if isinstance(value, dt.time):
        return value
    try:
        parsed = parse_time(str(value))
    except ValueError:
        parsed = None
    if parsed is None:
        raise CallKaroOptionsInvalid(f"{_TIME_WORDS.get(name, 'The time')} must be a time such as 09:30", name)
    return parsed


def clean_carry_over(value: Any) -> bool | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"true", "1", "on", "yes"}:
        return True
    if text in {"false", "0", "off", "no"}:
        return False
    raise CallKaroOptionsInvalid("Carry over must be yes or no", "carry_over")


def format_schedule_at(value: dt.datetime, time_zone: str) -> str:
    """``YYYY-MM-DDTHH:MM:SS`` in the account's zone: Call Karo reads it without a zone."""
    if value.tzinfo is None:
        raise CallKaroOptionsInvalid("The call time needs a date and a time", "schedule_at")
    return value.astimezone(ZoneInfo(time_zone)).strftime(SCHEDULE_AT_FORMAT)


@dataclass(frozen=True)
class CallKaroOptions(CallOptions):
    """What a Call Karo call is asked to do, always within the documented limits.

    A ``CallOptions`` (the telephony interface's type), so it travels through ``call_place`` as is.
    Building one validates and normalises every field; an invalid one is never constructed. The fields
    are ``CallOptions``'s own.
    """

    def __post_init__(self) -> None:
        cleaned = {
            "agent_id": str(self.agent_id or "").strip(),
            "language": clean_language(self.language),
            "number_of_retries": clean_number_of_retries(self.number_of_retries),
            "gap_between_retries": clean_gap_between_retries(self.gap_between_retries),
            "priority": clean_priority(self.priority),
            "min_trigger_time": clean_trigger_time(self.min_trigger_time, "min_trigger_time"),
            "max_trigger_time": clean_trigger_time(self.max_trigger_time, "max_trigger_time"),
            "carry_over": clean_carry_over(self.carry_over),
            "batch_id": str(self.batch_id or ""),
        }
        if self.schedule_at is not None and self.schedule_at.tzinfo is None:
            raise CallKaroOptionsInvalid("The call time needs a date and a time", "schedule_at")
        if not isinstance(self.metadata, dict):
            raise CallKaroOptionsInvalid("metadata must be an object", "metadata")
        for name, value in cleaned.items():
            object.__setattr__(self, name, value)

    # --- in --------------------------------------------------------------------------------------
    @classmethod
    def from_data(cls, data: Mapping[str, Any], **overrides: Any) -> CallKaroOptions:
        """From a form's cleaned data or a JSON body; keys that are not options are ignored."""
        names = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in names}
        return cls(**{**values, **overrides})

    @classmethod
    def from_call_options(cls, options: CallOptions) -> CallKaroOptions:
        """The telephony interface may hand us a plain ``CallOptions``: check it the same way."""
        if isinstance(options, cls):
            return options
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{f.name: getattr(options, f.name) for f in dataclasses.fields(options) if f.name in names})

    @classmethod
    def from_row(cls, call_log: Any, **overrides: Any) -> CallKaroOptions:
        """Rebuild the options stored on a call log (agent, batch and metadata come as overrides)."""
        return cls(**{name: getattr(call_log, name) for name in ROW_FIELDS}, **overrides)

    # --- out -------------------------------------------------------------------------------------
    def to_row_fields(self) -> dict[str, Any]:
        """The call-log columns (the agent row and the metadata are the provider's to resolve)."""
        return {name: getattr(self, name) for name in ROW_FIELDS}

    def to_initial(self) -> dict[str, Any]:
        """A form's initial values (the gap as the text a person types)."""
        gaps = gaps_as_list(self.gap_between_retries)
        return {
            "agent_id": self.agent_id,
            "language": self.language,
            "when": "later" if self.schedule_at else "now",
            "schedule_at": self.schedule_at,
            "number_of_retries": self.number_of_retries,
            "gap_between_retries": ",".join(str(g) for g in gaps),
            "priority": self.priority,
            "carry_over": self.carry_over,
        }

    def to_body(self, *, to_number: str, time_zone: str, metadata: dict[str, Any] | None = None) -> dict[str, Any]:
        """The JSON body of ``POST /call/outbound``; optional fields only when set."""
        if not self.agent_id:
            raise CallKaroOptionsInvalid("Choose an AI agent", "agent_id")
        body: dict[str, Any] = {"to_number": to_number, "agent_id": self.agent_id}
        if self.batch_id:
            body["batch_id"] = self.batch_id
        if metadata:
            if not isinstance(metadata, dict):
                raise CallKaroOptionsInvalid("metadata must be an object", "metadata")
            body["metadata"] = metadata
        if self.schedule_at is not None:
            body["schedule_at"] = format_schedule_at(self.schedule_at, time_zone)
        optional = ("min_trigger_time", "max_trigger_time", "carry_over", "number_of_retries")
        for name in (*optional, "gap_between_retries", "priority", "language"):
            value = getattr(self, name)
            if value not in (None, ""):
                body[name] = value
        return body


#: Limits a template shows on its inputs (``min``/``max``), taken from the constants above.
LIMITS = {
    "retries_min": RETRIES_MIN,
    "retries_max": RETRIES_MAX,
    "priority_min": PRIORITY_MIN,
    "priority_max": PRIORITY_MAX,
    "gap_min": GAP_MIN_MINUTES,
    "gap_max": GAP_MAX_MINUTES,
}


class OptionField(forms.Field):
    """A form field checked and normalised by one of the cleaners above (the form keeps no limits)."""

    def __init__(self, cleaner: Callable[[Any], Any], **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)
        self.cleaner = cleaner

    def clean(self, value: Any) -> Any:
        value = super().clean(value)
        try:
            return self.cleaner(value)
        except CallKaroOptionsInvalid as exc:
            raise forms.ValidationError(exc.message) from None
