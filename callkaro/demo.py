"""Demo AI agents for `make run`, assigned to the demo reps. Idempotent (keyed by agent id).

A value the environment sets is never stored: the config page's saved values would shadow it.
"""

from __future__ import annotations

import secrets as _secrets

from django.conf import settings

from crm.models import TeamMember

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
