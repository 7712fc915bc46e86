"""Meta's lead-ads webhook: verification, the signature, and the ids a delivery carries.

Deliveries carry ids only; the lead itself is fetched from the Graph API by a worker.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

SIGNATURE_HEADER = "X-Hub-Signature-256"
SIGNATURE_PREFIX = "sha256="


class DeliveryError(ValueError):
    """The body is not a lead-ads delivery we can read (400)."""


@dataclass(frozen=True)
class LeadgenChange:
    leadgen_id: str
    form_id: str
    page_id: str
    ad_id: str
    raw: dict[str, Any]


def signature_for(body: bytes, app_secret: str) -> str:
    """The header value Meta sends: ``sha256=<hex HMAC-SHA256(app secret, raw body)>``."""
    digest = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_PREFIX}{digest}"


def signature_problem(body: bytes, header: str | None, app_secret: str) -> str | None:
    """Why the signature fails, or None when it matches (compared in constant time)."""
    if not app_secret:
        return "no app secret configured"
    if not header:
        return "signature missing"
    if not header.startswith(SIGNATURE_PREFIX):
        return "signature malformed"
    expected = signature_for(body, app_secret).encode()
    if not hmac.compare_digest(expected, header.strip().lower().encode("utf-8", "surrogatepass")):
        return "signature mismatch"
    return None


def verification_answer(params: dict[str, str], verify_token: str) -> str | None:
    """The challenge to echo for a matching subscription request, else None (403)."""
    if params.get("hub.mode") != "subscribe" or not verify_token:
        return None
    supplied = (params.get("hub.verify_token") or "").encode("utf-8", "surrogatepass")
    if not hmac.compare_digest(supplied, verify_token.encode("utf-8", "surrogatepass")):
        return None
    return params.get("hub.challenge", "")


def _text(value: Any) -> str:
    return "" if value is None else str(value)[:64]


def leadgen_changes(body: bytes) -> list[LeadgenChange]:
    """Every ``leadgen`` change in every entry; other fields and objects are ignored."""
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise DeliveryError("Body is not JSON") from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("entry", []), list):
        raise DeliveryError("Body is not a webhook delivery")
    if payload.get("object") not in (None, "page"):
        return []
    changes: list[LeadgenChange] = []
    for entry in payload.get("entry") or []:
        for change in (entry or {}).get("changes") or [] if isinstance(entry, dict) else []:
            if not isinstance(change, dict) or change.get("field") != "leadgen":
                continue
            value = change.get("value")
            if not isinstance(value, dict) or not value.get("leadgen_id"):
                continue
            changes.append(
                LeadgenChange(
                    leadgen_id=_text(value["leadgen_id"]),
                    form_id=_text(value.get("form_id")),
                    page_id=_text(value.get("page_id") or entry.get("id")),
                    ad_id=_text(value.get("ad_id")),
                    raw=value,
                )
            )
    return changes
