"""Past human calls for `make run`, so the dashboard compares human and AI calling. Idempotent."""

from __future__ import annotations

import random
from datetime import timedelta

from django.utils import timezone

from crm.models import Lead
from telephony.lead_timeline import lead_timeline_backfill

from .models import AcefoneCallLog

OUTCOMES = [
    # status, agent answered, customer answered, hang-up cause, talk seconds, weight
    ("completed", True, True, "NORMAL_CLEARING", (45, 400), 50),
    ("no_answer", True, False, "NO_ANSWER", (0, 0), 30),
    ("no_answer", False, False, "NO_USER_RESPONSE", (0, 0), 10),
    ("busy", True, False, "USER_BUSY", (0, 0), 10),
]


def seed(stdout, *, count: int = 60, days: int = 14) -> int:
    if AcefoneCallLog.objects.filter(metadata_sent__demo=True).exists():
        return 0
    rng = random.Random(11)
    leads = list(Lead.objects.filter(do_not_call=False, assigned_to__isnull=False).order_by("-pk")[:80])
    if not leads:
        return 0
    now = timezone.now()
    rows = []
    for _ in range(count):
        lead = rng.choice(leads)
        status, agent_ok, customer_ok, cause, (low, high), _w = rng.choices(OUTCOMES, weights=[o[5] for o in OUTCOMES])[
            0
        ]
        started = now - timedelta(days=rng.randint(1, days), minutes=rng.randint(0, 600))
        talk = rng.randint(low, high)
        rows.append(
            AcefoneCallLog(
                lead=lead,
                team_member=lead.assigned_to,
                to_number=lead.phone.as_e164,
                agent_number=lead.assigned_to.acefone_agent_number or "0602000000",
                status=status,
                raw_status="answered" if customer_ok else "missed",
                hangup_cause=cause,
                duration_seconds=talk,
                billsec=talk,
                agent_answered=agent_ok,
                customer_answered=customer_ok,
                metadata_sent={"demo": True, "lead_id": lead.pk},
                initiated_at=started,
                ended_at=started + timedelta(seconds=talk + 15),
            )
        )
    AcefoneCallLog.objects.bulk_create(rows)
    for log, row in zip(AcefoneCallLog.objects.filter(metadata_sent__demo=True).order_by("pk"), rows, strict=False):
        AcefoneCallLog.objects.filter(pk=log.pk).update(created_at=row.initiated_at)
    lead_timeline_backfill(providers=["acefone"])  # written in bulk: the leads' call timeline after
    stdout.write(f"Acefone demo call history: {len(rows)} past human calls.")
    return len(rows)
