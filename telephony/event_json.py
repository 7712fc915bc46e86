"""A CallEvent as JSON and back, so a webhook is parsed once and the worker applies the stored event.

Datetimes (``occurred_at`` and extras such as ``answered_at``) are tagged so they come back aware;
non-finite numbers are tagged too. Text loses what no JSON column can hold (NUL, lone surrogates):
the raw body beside it keeps what was sent.
"""

from __future__ import annotations

import dataclasses
import math
from datetime import date, datetime
from typing import Any

from .base import CallEvent

_DATETIME = "$datetime"
_DATE = "$date"
_FLOAT = "$float"


def _text(value: str) -> str:
    return value.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")


def _encode(value: Any) -> Any:
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, float) and not math.isfinite(value):
        return {_FLOAT: str(value)}
    if isinstance(value, datetime):
        return {_DATETIME: value.isoformat()}
    if isinstance(value, date):
        return {_DATE: value.isoformat()}
    if isinstance(value, dict):
        return {_text(str(k)): _encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if len(value) == 1 and _DATETIME in value:
            return datetime.fromisoformat(value[_DATETIME])
        if len(value) == 1 and _DATE in value:
            return date.fromisoformat(value[_DATE])
        if len(value) == 1 and _FLOAT in value:
            return float(value[_FLOAT])
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def event_to_json(event: CallEvent) -> dict[str, Any]:
    """A JSON-ready dict of every field of ``event``."""
    return _encode({f.name: getattr(event, f.name) for f in dataclasses.fields(CallEvent)})


def event_from_json(data: dict[str, Any]) -> CallEvent:
    """The event ``event_to_json`` stored; unknown keys (a newer writer) are ignored."""
    names = {f.name for f in dataclasses.fields(CallEvent)}
    return CallEvent(**{k: v for k, v in _decode(data).items() if k in names})
