"""The metadata sent with each AI call: our ids, and the lead fields an admin chose on the config page.

Call Karo's pre-call functions can only fill keys that were sent, so a chosen field is sent even
when empty; notes and fields nobody chose are never sent. The whole is bounded (``MAX_KEYS`` keys,
``MAX_VALUE_CHARS`` characters a value), truncated with a log line rather than refused.
"""

from __future__ import annotations

import logging
import re
from typing import Any

logger = logging.getLogger(__name__)

MAX_KEYS = 50
MAX_VALUE_CHARS = 1000
#: Always sent: how the webhook finds our call log again.
ID_KEYS = ("call_log_id", "lead_id")


def _rep_first_name(lead: Any) -> str:
    member = getattr(lead, "assigned_to", None)
    name = (getattr(member, "name", "") or "").strip() if member else ""
    return name.split()[0] if name else ""


def _form_answers(lead: Any) -> dict[str, Any]:
    """Each answer of the Meta lead form as ``form_<question>`` (keys as a template can name them)."""
    answers = getattr(lead, "form_answers", None) or {}
    out: dict[str, Any] = {}
    if isinstance(answers, dict):
        for question, answer in answers.items():
            key = "form_" + re.sub(r"[^a-z0-9]+", "_", str(question).lower()).strip("_")
            if isinstance(answer, list):
                answer = ", ".join(str(a) for a in answer)
            out[key[:60]] = "" if answer is None else str(answer)
    return out


#: The fields an admin may choose: choice value -> (label, reader of the lead -> {key: value}).
LEAD_FIELDS: dict[str, tuple[str, Any]] = {
    "name": ("Name (lead_name)", lambda lead: {"lead_name": lead.name or ""}),
    "city": ("City (lead_city)", lambda lead: {"lead_city": lead.city or ""}),
    "source": ("Source (lead_source)", lambda lead: {"lead_source": lead.get_source_display()}),
    "email": ("Email (lead_email)", lambda lead: {"lead_email": lead.email or ""}),
    "stage": ("Stage (lead_stage)", lambda lead: {"lead_stage": lead.get_stage_display()}),
    "meta_form_name": ("Meta form name (meta_form_name)", lambda lead: {"meta_form_name": lead.meta_form_name}),
    "meta_campaign_name": (
        "Meta campaign name (meta_campaign_name)",
        lambda lead: {"meta_campaign_name": lead.meta_campaign_name},
    ),
    "form_answers": ("The Meta form's answers (form_<question>)", _form_answers),
    "rep_first_name": (
        "Assigned rep's first name (rep_first_name)",
        lambda lead: {"rep_first_name": _rep_first_name(lead)},
    ),
}
DEFAULT_FIELDS = ("name", "city", "source", "form_answers", "rep_first_name")
FIELD_CHOICES = [(key, label) for key, (label, _reader) in LEAD_FIELDS.items()]


def _bounded(metadata: dict[str, Any], call_log_id: Any) -> dict[str, Any]:
    """At most MAX_KEYS keys (our ids kept first) and values of at most MAX_VALUE_CHARS characters."""
    out: dict[str, Any] = {}
    for key in (*ID_KEYS, *metadata):
        if key in out or key not in metadata:
            continue
        if len(out) >= MAX_KEYS:
            logger.warning("Call %s: metadata over %s keys; %s dropped", call_log_id, MAX_KEYS, key)
            continue
        value = metadata[key]
        if isinstance(value, str) and len(value) > MAX_VALUE_CHARS:
            logger.warning("Call %s: metadata %s truncated to %s characters", call_log_id, key, MAX_VALUE_CHARS)
            value = value[:MAX_VALUE_CHARS]
        out[key] = value
    return out


def call_metadata_build(
    *, lead: Any, call_log_id: int, fields: list[str] | tuple[str, ...] | None, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The ``metadata`` of ``POST /call/outbound``: the chosen lead fields, ``extra`` (a campaign's
    columns), then our ids, which nothing may overwrite."""
    chosen = DEFAULT_FIELDS if fields is None else fields
    metadata: dict[str, Any] = {}
    for name in chosen:
        if name in LEAD_FIELDS:
            metadata.update(LEAD_FIELDS[name][1](lead))
    metadata.update({k: v for k, v in (extra or {}).items() if k not in ID_KEYS})
    metadata.update({"call_log_id": call_log_id, "lead_id": lead.pk})
    return _bounded(metadata, call_log_id)
