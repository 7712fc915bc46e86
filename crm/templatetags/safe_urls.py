"""``{{ call.recording_url|safe_url }}``: a provider's link rendered only when it is a safe URL."""

from __future__ import annotations

from typing import Any

from django import template

from telephony.payload import is_safe_url

register = template.Library()


@register.filter
def safe_url(value: Any) -> str:
    """The URL when it is ``https`` (``http`` in the sandbox), else ``""``, so ``{% if %}`` hides the
    link and a stored ``javascript:`` value (one saved before the parsers checked) is never a link."""
    return value if is_safe_url(value) else ""
