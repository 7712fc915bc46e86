"""Demo AI agents for `make run`, assigned to the demo reps. Idempotent (keyed by agent id).

A value the environment sets is never stored: the config page's saved values would shadow it.
"""

from __future__ import annotations

import secrets as _secrets

from django.conf import settings

from crm.models import TeamMember
from telephony.lead_timeline import lead_timeline_backfill

from . import services
from .config import config_row
from .models import CallKaroAgent

DEMO_AGENTS = [
    # agent id, name, language, description, usernames it is assigned to
    ("demo-priya-hi", "Priya – Hindi sales", "hi", "Qualifies new Meta leads in Hindi and books site visits.", ["rep"]),
    ("demo-arjun-en", "Arjun – English follow-up", "en", "Follows up leads who asked to be called back.", ["rep2"]),
    ("demo-kavya-kn", "Kavya – Kannada sales", "kn", "Bengaluru leads who prefer Kannada.", ["rep", "rep2"]),
]
DEFAULT_AGENT_ID = "demo-arjun-en"


def seed(stdout) -> None:
    created = 0
    for agent_id, name, language, description, usernames in DEMO_AGENTS:
        agent, was_created = CallKaroAgent.objects.get_or_create(
            agent_id=agent_id, defaults={"name": name, "language": language, "description": description}
        )
        created += was_created
        members = TeamMember.objects.filter(user__username__in=usernames)
        agent.team_members.add(*members)
    row = config_row()
    if not settings.CALLKARO_DEFAULT_AGENT_ID and not (row and row.default_agent_id):
        services.config_save(
            default_agent_id=DEFAULT_AGENT_ID,
            time_zone=row.time_zone if row else settings.CALLKARO_TIME_ZONE,
            is_enabled=row.is_enabled if row else True,
            actor=None,
        )
    if settings.PROVIDER_SANDBOX:
        _seed_sandbox_credentials(stdout)
    stdout.write(f"Call Karo agents: {created} created, {CallKaroAgent.objects.count()} in all.")
    seed_call_history(stdout)


def _seed_sandbox_credentials(stdout) -> None:
    """With the local sandbox only: a key and a webhook secret, so an AI call completes offline.

    Skipped for whatever the environment already sets, and for what was already saved.
    """
    row = config_row()
    if not settings.CALLKARO_API_KEY and not (row and row.api_key_encrypted):
        row = services.config_save(
            api_key="sandbox-" + _secrets.token_hex(12),
            default_agent_id=row.default_agent_id if row else "",
            time_zone=row.time_zone if row else settings.CALLKARO_TIME_ZONE,
            is_enabled=row.is_enabled if row else True,
            actor=None,
        )
        stdout.write("Call Karo sandbox: a demo API key was saved.")
    if not settings.CALLKARO_WEBHOOK_SECRET and not (row and row.webhook_secrets_encrypted):
        services.webhook_secret_generate(actor=None)
        stdout.write("Call Karo sandbox: a demo webhook secret was saved.")


DEMO_OUTCOMES = [
    # status, hangup reason, talk seconds (range), converted, weight
    ("completed", "CLIENT_INITIATED", (60, 300), False, 35),
    ("completed", "PARTICIPANT_REMOVED", (90, 420), True, 12),
    ("no_answer", "USER_UNAVAILABLE", (0, 0), False, 25),
    ("no_answer", "USER_REJECTED", (0, 0), False, 10),
    ("no_answer", "VOICEMAIL_DETECTED", (0, 20), False, 8),
    ("failed", "INVALID_PHONE_NUMBER", (0, 0), False, 3),
]


def seed_call_history(stdout, *, count: int = 160, days: int = 14) -> int:
    """Past AI calls, so the dashboard and the lead timelines have something to show. Idempotent."""
    import random
    from datetime import timedelta

    from django.utils import timezone

    from crm.models import Lead

    from .models import CallKaroCallLog

    if CallKaroCallLog.objects.filter(metadata_sent__demo=True).exists():
        return 0
    rng = random.Random(7)
    leads = list(Lead.objects.filter(do_not_call=False, assigned_to__isnull=False).order_by("pk")[:120])
    agents = list(CallKaroAgent.objects.filter(agent_id__in=[a[0] for a in DEMO_AGENTS]))
    if not leads or not agents:
        return 0
    now = timezone.now()
    rows = []
    for _ in range(count):
        lead = rng.choice(leads)
        status, reason, (low, high), converted, _w = rng.choices(DEMO_OUTCOMES, weights=[o[4] for o in DEMO_OUTCOMES])[
            0
        ]
        started = now - timedelta(days=rng.randint(1, days), minutes=rng.randint(0, 600))
        talk = rng.randint(low, high)
        rows.append(
            CallKaroCallLog(
                lead=lead,
                team_member=lead.assigned_to,
                agent=rng.choice(agents),
                to_number=lead.phone.as_e164,
                status=status,
                raw_status=reason,
                hangup_reason=reason,
                duration_seconds=talk,
                converted=converted,
                disposition="Interested, asked for a site visit" if converted else "",
                transcript=f"AI: Namaste! Am I speaking with {lead.name}? User: Yes ..." if talk else "",
                metadata_sent={"demo": True, "lead_id": lead.pk},
                initiated_at=started,
                ended_at=started + timedelta(seconds=talk + 20),
            )
        )
    CallKaroCallLog.objects.bulk_create(rows)
    # created_at is set on insert; move each demo call back to when it "happened".
    for log, row in zip(CallKaroCallLog.objects.filter(metadata_sent__demo=True).order_by("pk"), rows, strict=False):
        CallKaroCallLog.objects.filter(pk=log.pk).update(created_at=row.initiated_at)
    lead_timeline_backfill(providers=["callkaro"])  # written in bulk: the leads' call timeline after
    stdout.write(f"Call Karo demo call history: {len(rows)} past AI calls.")
    return len(rows)
