"""A finished call's outcome in words a rep reads: one mapping from what the provider reported
(provider, status, hang-up reason or cause, duration, voicemail, post-call values) to a sentence.

Raw codes such as ``CLIENT_INITIATED`` stay in the data; pages show these sentences instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .payload import is_safe_url
from .status import CallStatus, is_final

#: Call Karo hang-up reasons, in words. Connected reasons get the talk time appended.
HANGUP_REASON_WORDS: dict[str, str] = {
    "CLIENT_INITIATED": "Customer hung up",
    "PARTICIPANT_REMOVED": "The AI agent ended the call",
    "SESSION_TIMEOUT": "The call reached its time limit",
    "VOICEMAIL_DETECTED": "Voicemail",
    "USER_REJECTED": "Customer rejected the call",
    "USER_UNAVAILABLE": "Customer could not be reached",
    "USER_UNRESPONSIVE": "Customer did not answer",
    "INVALID_PHONE_NUMBER": "The number is invalid",
    "OUTSIDE_TRIGGER_WINDOW": "Not placed: outside the calling hours",
    "DELETED_SCH_CALL_ALL": "Scheduled call deleted",
    "DELETED_SCH_CALL_ONE": "Scheduled call deleted",
    "PRE_CALL_FN_FAILED": "Not placed: the pre-call check failed",
    "UNKNOWN": "Outcome unknown",
}
#: Acefone hang-up causes once the rep answered, in words about the customer.
HANGUP_CAUSE_WORDS: dict[str, str] = {
    "USER_BUSY": "the customer was busy",
    "CALL_REJECTED": "the customer rejected the call",
    "UNALLOCATED_NUMBER": "the number does not exist",
    "INVALID_NUMBER_FORMAT": "the number is invalid",
}
#: By status, when nothing more specific is known.
STATUS_WORDS: dict[str, str] = {
    CallStatus.COMPLETED: "Connected",
    CallStatus.NO_ANSWER: "No answer",
    CallStatus.BUSY: "Busy",
    CallStatus.FAILED: "The call failed",
    CallStatus.CANCELLED: "Cancelled",
    CallStatus.UNKNOWN: "Outcome unknown: waiting for the provider's report",
}
INTERESTED_VALUES = {"interested", "hot", "warm", "site_visit"}
SUMMARY_KEYS = ("summary", "call_summary", "Summary")


def _talk(duration: int | None) -> str:
    return f" after {duration} s" if duration else ""


def post_call_summary(log: Any) -> str:
    """The AI's own summary of the call: post_call's summary, else the disposition, else a comment."""
    post_call = getattr(log, "post_call", None) or {}
    if isinstance(post_call, dict):
        for key in SUMMARY_KEYS:
            if isinstance(post_call.get(key), str) and post_call[key].strip():
                return post_call[key].strip()
    disposition = (getattr(log, "disposition", "") or "").strip()
    if disposition:
        return disposition
    detail = getattr(log, "post_call_detail", None) or {}
    if isinstance(detail, dict):
        for value in detail.values():
            if isinstance(value, dict) and str(value.get("comment") or "").strip():
                return str(value["comment"]).strip()
    return ""


def is_interested(log: Any) -> bool:
    post_call = getattr(log, "post_call", None) or {}
    status = str(post_call.get("lead_status", "")).strip().lower() if isinstance(post_call, dict) else ""
    return getattr(log, "converted", None) is True or status in INTERESTED_VALUES


def _ai_words(log: Any, duration: int | None) -> str:
    reason = (getattr(log, "hangup_reason", "") or "").strip().upper()
    if reason == "VOICEMAIL_DETECTED":
        return "Voicemail"
    if is_interested(log) and (duration or 0) > 0:
        summary = post_call_summary(log)
        if summary.lower().startswith("interested"):
            return summary  # the AI said it already ("Interested, site visit requested")
        return f"Interested: {summary}" if summary else "Interested"
    if reason in HANGUP_REASON_WORDS:
        words = HANGUP_REASON_WORDS[reason]
        connected = reason in {"CLIENT_INITIATED", "PARTICIPANT_REMOVED", "SESSION_TIMEOUT"}
        return words + (_talk(duration) if connected else "")
    return ""


def _human_words(log: Any, duration: int | None) -> str:
    agent, customer = getattr(log, "agent_answered", None), getattr(log, "customer_answered", None)
    cause = (getattr(log, "hangup_cause", "") or "").strip().upper()
    if agent is False:
        return "You did not answer, so the customer was not called"
    if agent and customer is False or (agent and customer is None and not duration and log.status != "completed"):
        why = HANGUP_CAUSE_WORDS.get(cause, "")
        return f"You answered, the customer did not ({why})" if why else "You answered, the customer did not"
    if customer and duration:
        return f"You talked with the customer for {duration} s"
    return ""


def call_outcome_words(provider: str, log: Any) -> str:
    """One sentence for this call's outcome ("Customer hung up after 40 s", "Voicemail", ...)."""
    status = log.status
    if not is_final(status):
        return CallStatus(status).label
    duration = getattr(log, "duration_seconds", None)
    words = _human_words(log, duration) if hasattr(log, "agent_answered") else _ai_words(log, duration)
    if words:
        return words
    base = STATUS_WORDS.get(status, CallStatus(status).label)
    return base + (_talk(duration) if status == CallStatus.COMPLETED else "")


def human_call_legs(log: Any) -> list[tuple[str, str]]:
    """For a human call: ("You", "answered"), ("Customer", "did not answer"); empty for AI calls."""
    if not hasattr(log, "agent_answered"):
        return []

    def leg(value: bool | None) -> str:
        return {True: "answered", False: "did not answer", None: "—"}[value]

    return [("You", leg(log.agent_answered)), ("Customer", leg(log.customer_answered))]


def extracted_fields(log: Any) -> list[tuple[str, str]]:
    """What the AI agent filled in after the call (post_call), as readable label/value pairs."""
    post_call = getattr(log, "post_call", None) or {}
    if not isinstance(post_call, dict):
        return []
    rows = []
    for key, value in post_call.items():
        if key in SUMMARY_KEYS or value in (None, "", [], {}):
            continue
        shown = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
        rows.append((str(key).replace("_", " ").capitalize(), shown.replace("_", " ")))
    return rows


_SPEAKER = re.compile(r"(?:^|(?<=\s))(AI|Agent|Assistant|Bot|User|Customer|Caller|Lead|Rep)\s*:\s*", re.IGNORECASE)
_AI_SPEAKERS = {"ai", "agent", "assistant", "bot"}


@dataclass(frozen=True)
class Turn:
    speaker: str
    is_agent: bool
    text: str


def transcript_turns(text: str) -> list[Turn]:
    """The transcript as speaker turns ("AI: Namaste ... User: Yes" → two turns). Text with no
    speaker markers stays one turn, so nothing the provider sent is hidden."""
    text = (text or "").strip()
    if not text:
        return []
    marks = list(_SPEAKER.finditer(text))
    if not marks:
        return [Turn("Transcript", False, text)]
    turns = [Turn("Transcript", False, text[: marks[0].start()].strip())] if marks[0].start() > 0 else []
    for i, mark in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        who = mark.group(1).lower()
        is_agent = who in _AI_SPEAKERS
        body = text[mark.end() : end].strip()
        if body:
            turns.append(Turn("AI agent" if is_agent else "Customer", is_agent, body))
    return [t for t in turns if t.text]


def playable_recording(url: str) -> str:
    """The recording URL if a browser may load it (``telephony.payload.is_safe_url``: https, or http
    only with the sandbox on). Any other scheme (javascript:, data:, file:) is never rendered."""
    url = (url or "").strip()
    return url if is_safe_url(url) else ""
