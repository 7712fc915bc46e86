"""10,000 shuffled and duplicated events over 1,000 calls: no call ever moves backwards.

Each call gets a script (live steps, an odd ``unknown``, one final outcome), every event is
sent one to three times and the whole lot is shuffled. After every event the call's status
is read back and must not have gone down the forward-only order; at the end every call holds
its script's final outcome. Half the events match by our id, half by the provider's call id.
"""

from __future__ import annotations

import random
import time

import pytest

from callkaro.models import CallKaroCallLog
from crm.models import Lead
from telephony.base import CallEvent
from telephony.events import call_event_apply
from telephony.status import FINAL_STATUSES, CallStatus
from telephony.tests.webhook_samples import final_receivers_only

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

CALLS, EVENTS = 1_000, 10_000
#: The forward-only order (docs/architecture.md, status machine); every final outcome shares the top rank.
RANK = {
    CallStatus.INITIATED: 3,
    CallStatus.RINGING: 4,
    CallStatus.IN_PROGRESS: 5,
    CallStatus.UNKNOWN: 6,
    **{status: 7 for status in FINAL_STATUSES},
}
FINALS = sorted(FINAL_STATUSES)
LIVE_STEPS = [CallStatus.RINGING, CallStatus.IN_PROGRESS, CallStatus.UNKNOWN]


@pytest.fixture(autouse=True)
def _no_hooks(monkeypatch):
    final_receivers_only(monkeypatch)


def _scripts(rng: random.Random, sids: dict[int, str]) -> tuple[list[tuple[int, CallEvent]], dict[int, str]]:
    events: list[tuple[int, CallEvent]] = []
    expected: dict[int, str] = {}
    for pk, sid in sids.items():
        final = rng.choice(FINALS)
        expected[pk] = final
        steps = [s for s in LIVE_STEPS if rng.random() < 0.6] + [final]
        for status in steps:
            by_sid = rng.random() < 0.5
            event = CallEvent(
                provider="callkaro",
                status=status,
                raw_status=f"raw-{status}",
                call_log_id=None if by_sid else pk,
                provider_call_id=sid,
                duration=60 if status == CallStatus.COMPLETED else 0,
            )
            events.append((pk, event))
    # Duplicate (Call Karo's twin webhooks, retries) up to exactly EVENTS, then shuffle.
    while len(events) < EVENTS:
        events.append(rng.choice(events))
    events = events[:EVENTS] if len(events) > EVENTS else events
    rng.shuffle(events)
    return events, expected


def test_ten_thousand_shuffled_duplicated_events_never_move_a_call_back(lead):
    rng = random.Random(20261127)
    logs = CallKaroCallLog.objects.bulk_create(
        CallKaroCallLog(lead=lead, to_number=str(lead.phone), status=CallStatus.INITIATED, provider_call_id=f"sid-{i}")
        for i in range(CALLS)
    )
    sids = {log.pk: log.provider_call_id for log in logs}
    pks = list(sids)
    assert all(pks), "bulk_create must return primary keys (SQLite 3.35+, PostgreSQL)"
    events, expected = _scripts(rng, sids)
    assert len(events) == EVENTS and len({id(e) for _, e in events}) < EVENTS  # duplicates are in

    current = dict.fromkeys(pks, CallStatus.INITIATED)
    finals_seen: dict[int, str] = {}
    regressions: list[tuple[int, str, str]] = []
    started = time.monotonic()
    for pk, event in events:
        call_event_apply(provider="callkaro", event=event)
        now = CallKaroCallLog.objects.values_list("status", flat=True).get(pk=pk)
        before = current[pk]
        if RANK[CallStatus(now)] < RANK[CallStatus(before)] or (before in FINAL_STATUSES and now != before):
            regressions.append((pk, before, now))
        current[pk] = now
        if now in FINAL_STATUSES:
            finals_seen.setdefault(pk, now)
    elapsed = time.monotonic() - started
    print(f"{EVENTS} events over {CALLS} calls applied in {elapsed:.1f}s")

    assert regressions == []
    stored = dict(CallKaroCallLog.objects.filter(pk__in=pks).values_list("pk", "status"))
    wrong = {pk: (stored[pk], want) for pk, want in expected.items() if stored[pk] != want}
    assert wrong == {}
    assert finals_seen == expected
    assert set(stored) == set(pks)
    assert Lead.objects.count() == 1
