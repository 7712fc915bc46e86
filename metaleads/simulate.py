"""Simulated Meta leads for the sandbox: store them where the fake Graph API serves them, then post
signed deliveries to our own webhook, some twice, some out of order, and some never (the backfill's work).
"""

from __future__ import annotations

import json
import logging
import random
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass

import requests
from django.conf import settings
from django.utils import timezone

from .config import get_effective_config
from .models import MetaSandboxLead
from .sandbox import DEMO_FORMS, graph_stamp
from .webhooks import SIGNATURE_HEADER, signature_for

logger = logging.getLogger("metaleads.simulate")
FIRST = ["Aarav", "Priya", "Rohan", "Ananya", "Vikram", "Sneha", "Karan", "Meera", "Arjun", "Divya"]
LAST = ["Sharma", "Iyer", "Reddy", "Patel", "Nair", "Gupta", "Khan", "Das", "Joshi", "Rao"]
CITIES = ["Bengaluru", "Pune", "Mumbai", "Hyderabad", "Chennai", "Delhi"]
Sender = Callable[[bytes, dict[str, str]], int | None]


@dataclass
class SimulationResult:
    created: int = 0
    posts: int = 0
    duplicated: int = 0
    dropped: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def _lead_data(rng: random.Random, form_id: str) -> dict:
    leadgen_id = str(rng.randint(10**14, 10**15 - 1))
    name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    return {
        "id": leadgen_id,
        "created_time": graph_stamp(timezone.now()),
        "form_id": form_id,
        "ad_id": "238000000000001",
        "ad_name": "Diwali offer - video",
        "adset_id": "238000000000002",
        "adset_name": "Bengaluru 25-45",
        "campaign_id": "238000000000003",
        "campaign_name": "Diwali launch",
        "is_organic": False,
        "platform": rng.choice(["fb", "fb", "ig"]),
        "field_data": [
            {"name": "full_name", "values": [name]},
            {"name": "phone_number", "values": [f"+9198{rng.randint(0, 99999999):08d}"]},
            {"name": "email", "values": [f"{name.split()[0].lower()}{rng.randint(1, 999)}@example.com"]},
            {"name": "city", "values": [rng.choice(CITIES)]},
            {"name": "budget", "values": [rng.choice(["50-75 lakh", "75 lakh-1 crore", "1 crore+"])]},
        ],
    }


def delivery_body(leads: list[dict]) -> bytes:
    """The webhook body Meta sends: ids only, one change per lead, one entry per page."""
    changes = [
        {
            "field": "leadgen",
            "value": {
                "leadgen_id": lead["id"],
                "page_id": DEMO_FORMS.get(lead["form_id"], ("", "100000000000001"))[1],
                "form_id": lead["form_id"],
                "ad_id": lead["ad_id"],
                "adgroup_id": lead["adset_id"],
                "created_time": int(timezone.now().timestamp()),
            },
        }
        for lead in leads
    ]
    entry = {"id": "100000000000001", "time": int(timezone.now().timestamp()), "changes": changes}
    return json.dumps({"object": "page", "entry": [entry]}).encode()


def _post(body: bytes, headers: dict[str, str]) -> int | None:
    url = f"{settings.SITE_URL.rstrip('/')}/meta-leads-webhook/"
    try:
        return requests.post(url, data=body, headers=headers, timeout=(3.05, 10)).status_code
    except requests.RequestException as exc:
        logger.warning("simulated Meta delivery failed: %s", type(exc).__name__)
        return None


def simulate_leads(
    *,
    count: int,
    send: Sender | None = None,
    rng: random.Random | None = None,
    duplicate_rate: float = 0.2,
    drop_rate: float = 0.15,
) -> SimulationResult:
    """Make ``count`` leads; deliver each once, twice (redelivery) or never (left to the backfill)."""
    rng = rng or random.Random(uuid.uuid4().int)
    send = send or _post
    secret = get_effective_config().app_secret
    result = SimulationResult()
    batches: list[list[dict]] = []
    for _ in range(count):
        data = _lead_data(rng, rng.choice(list(DEMO_FORMS)))
        MetaSandboxLead.objects.create(
            leadgen_id=data["id"], form_id=data["form_id"], created_time=timezone.now(), data=data
        )
        result.created += 1
        roll = rng.random()
        if roll < drop_rate:
            result.dropped += 1
            continue
        copies = 2 if roll > 1 - duplicate_rate else 1
        result.duplicated += copies - 1
        batches.extend([[data]] * copies)
    rng.shuffle(batches)  # Meta delivers in any order
    for batch in batches:
        body = delivery_body(batch)
        send(body, {"Content-Type": "application/json", SIGNATURE_HEADER: signature_for(body, secret)})
        result.posts += 1
    return result
