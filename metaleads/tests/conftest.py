from __future__ import annotations

import pytest
from django.core.cache import cache

from .helpers import APP_SECRET, CALLKARO, CALLKARO_KEY, GRAPH, PAGE_TOKEN, VERIFY_TOKEN


@pytest.fixture(autouse=True)
def meta_settings(settings, db):
    settings.META_APP_SECRET = APP_SECRET
    settings.META_VERIFY_TOKEN = VERIFY_TOKEN
    settings.META_PAGE_ACCESS_TOKEN = PAGE_TOKEN
    settings.META_GRAPH_BASE_URL = GRAPH
    settings.META_BACKFILL_INTERVAL = 300
    settings.SPEED_TO_LEAD_AGENT_ID = ""
    settings.SPEED_TO_LEAD_PACE_SECONDS = 6
    settings.CALLKARO_API_KEY = CALLKARO_KEY
    settings.CALLKARO_DEFAULT_AGENT_ID = ""
    settings.CALLKARO_BASE_URL = CALLKARO
    settings.TELEPHONY_HTTP_RETRIES = 0
    settings.TELEPHONY_HTTP_BACKOFF = 0
    cache.clear()
    yield settings
    cache.clear()
