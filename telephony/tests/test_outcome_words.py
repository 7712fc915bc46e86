"""Outcomes in words: every Call Karo hang-up reason has a sentence, and the card, turns and player are safe."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from telephony.outcome_words import (
    HANGUP_REASON_WORDS,
    call_outcome_words,
    extracted_fields,
    human_call_legs,
    playable_recording,
    transcript_turns,
)

DOCUMENTED_REASONS = (
    "CLIENT_INITIATED PARTICIPANT_REMOVED SESSION_TIMEOUT VOICEMAIL_DETECTED USER_REJECTED USER_UNAVAILABLE "
    "USER_UNRESPONSIVE INVALID_PHONE_NUMBER OUTSIDE_TRIGGER_WINDOW DELETED_SCH_CALL_ALL DELETED_SCH_CALL_ONE "
    "PRE_CALL_FN_FAILED UNKNOWN"
).split()


def ai(status="completed", duration=40, reason="CLIENT_INITIATED", **kw):
    values = {"converted": None, "post_call": {}, "post_call_detail": {}, "disposition": "", "transcript": ""}
    values.update(kw)
    return SimpleNamespace(status=status, duration_seconds=duration, hangup_reason=reason, **values)


def human(status="no_answer", duration=0, agent=True, customer=False, cause=""):
    return SimpleNamespace(
        status=status, duration_seconds=duration, agent_answered=agent, customer_answered=customer, hangup_cause=cause
    )


def test_every_documented_hangup_reason_has_words():
    assert set(DOCUMENTED_REASONS) <= set(HANGUP_REASON_WORDS)


@pytest.mark.parametrize(
    ("log", "words"),
    [
        (ai(), "Customer hung up after 40 s"),
        (ai(reason="VOICEMAIL_DETECTED", duration=12), "Voicemail"),
        (ai(status="no_answer", duration=0, reason="USER_UNRESPONSIVE"), "Customer did not answer"),
        (
            ai(post_call={"lead_status": "interested", "summary": "wants a site visit on Saturday"}),
            "Interested: wants a site visit on Saturday",
        ),
        (
            ai(converted=True, disposition="Interested, site visit requested"),
            "Interested, site visit requested",
        ),
        (ai(status="completed", duration=30, reason=""), "Connected after 30 s"),
        (ai(status="ringing", duration=None, reason=""), "Ringing"),
        (human(), "You answered, the customer did not"),
        (human(cause="USER_BUSY", status="busy"), "You answered, the customer did not (the customer was busy)"),
        (human(agent=False, customer=None), "You did not answer, so the customer was not called"),
        (human(status="completed", duration=75, customer=True), "You talked with the customer for 75 s"),
    ],
)
def test_outcome_in_words(log, words):
    assert call_outcome_words("x", log) == words


def test_the_raw_code_is_never_the_sentence():
    assert "CLIENT_INITIATED" not in call_outcome_words("callkaro", ai())


def test_human_legs_and_ai_calls_have_none():
    assert human_call_legs(human()) == [("You", "answered"), ("Customer", "did not answer")]
    assert human_call_legs(ai()) == []


def test_extracted_fields_leave_out_the_summary_and_empties():
    log = ai(post_call={"lead_status": "site_visit", "summary": "x", "budget": "", "bhk": [2, 3]})
    assert extracted_fields(log) == [("Lead status", "site visit"), ("Bhk", "2, 3")]


def test_transcript_turns_split_inline_and_multiline_speakers():
    turns = transcript_turns("AI: Namaste, am I speaking with Priya? User: Yes. AI: You enquired ...")
    assert [(t.speaker, t.text) for t in turns] == [
        ("AI agent", "Namaste, am I speaking with Priya?"),
        ("Customer", "Yes."),
        ("AI agent", "You enquired ..."),
    ]
    assert [t.is_agent for t in transcript_turns("agent: hi\ncustomer: hello")] == [True, False]
    assert transcript_turns("no speakers here")[0].text == "no speakers here"
    assert transcript_turns("") == []


@pytest.mark.parametrize(
    ("url", "sandbox", "shown"),
    [
        ("https://rec.example.com/1.mp3", False, True),
        ("http://rec.example.com/1.mp3", False, False),
        ("http://127.0.0.1:8000/1.mp3", True, True),
        ("javascript:alert(1)", True, False),
        ("data:audio/mp3;base64,AAAA", True, False),
        ("file:///etc/passwd", True, False),
        ("", False, False),
    ],
)
def test_only_https_recordings_play(settings, url, sandbox, shown):
    settings.PROVIDER_SANDBOX = sandbox
    assert playable_recording(url) == (url if shown else "")
