"""Pre-dial checks, run by ``call_dispatch`` just before each dial (``TELEPHONY_PRE_DIAL_CHECKS``).

Each takes the call log and returns a skip reason, or None to let the call go ahead.
"""

from __future__ import annotations

from typing import Any

from crm.models import Lead


def lead_still_callable(call_log: Any) -> str | None:
    """The lead may have been marked do-not-call or invalid since the call was queued."""
    lead = Lead.objects.filter(pk=call_log.lead_id).values("do_not_call", "phone_invalid").first()
    if lead is None:
        return "The lead no longer exists"
    if lead["do_not_call"]:
        return "The lead is on the do-not-call list"
    if lead["phone_invalid"]:
        return "The lead's phone number is flagged invalid"
    return None
