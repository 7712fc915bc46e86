"""Calling settings: the providers, the telephony core, webhooks, campaigns, reporting and Meta lead
ads, read from the same environment as ``crm/settings.py``, which star-imports this module."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from .settings_env import env

# --- Providers -----------------------------------------------------------------
PROVIDER_SANDBOX = env.bool("PROVIDER_SANDBOX", default=False)
# Baseline endpoints under /bench/ (bench/views.py), mounted only with DEBUG on (check crm.E001).
BENCH_ENDPOINTS = env.bool("BENCH_ENDPOINTS", default=False)
CALLKARO_BASE_URL = env.str("CALLKARO_BASE_URL", default="https://api.callkaro.ai")
CALLKARO_API_KEY = env.str("CALLKARO_API_KEY", default="")
CALLKARO_DEFAULT_AGENT_ID = env.str("CALLKARO_DEFAULT_AGENT_ID", default="")
CALLKARO_WEBHOOK_SECRET = env.str("CALLKARO_WEBHOOK_SECRET", default="")
CALLKARO_TIME_ZONE = env.str("CALLKARO_TIME_ZONE", default="Asia/Kolkata")
# How long a process reuses the effective Call Karo config on the webhook path (0 turns the copy off).
CALLKARO_CONFIG_CACHE_SECONDS = env.float("CALLKARO_CONFIG_CACHE_SECONDS", default=5.0)
# Campaign creation: "v1" (POST /call/campaign, one agent) or "v2" (POST /v2/call/campaign, name only).
CALLKARO_CAMPAIGN_API_VERSION = env.str("CALLKARO_CAMPAIGN_API_VERSION", default="v1")
if CALLKARO_CAMPAIGN_API_VERSION not in {"v1", "v2"}:
    raise ImproperlyConfigured("CALLKARO_CAMPAIGN_API_VERSION must be v1 or v2")
# Post-call values of calls this short (seconds) are the agent's defaults: stored, never acted on.
TELEPHONY_SHORT_CALL_SECONDS = env.int("TELEPHONY_SHORT_CALL_SECONDS", default=10)
ACEFONE_BASE_URL = env.str("ACEFONE_BASE_URL", default="https://api.acefone.in")
ACEFONE_API_TOKEN = env.str("ACEFONE_API_TOKEN", default="")
ACEFONE_CALLER_ID = env.str("ACEFONE_CALLER_ID", default="")
ACEFONE_WEBHOOK_SECRET = env.str("ACEFONE_WEBHOOK_SECRET", default="")
DEMO_PASSWORD = env.str("DEMO_PASSWORD", default="demo")
# Calling policy (India): a narrowing of the legal 09:00-21:00 window, never a widening; the least
# gap between two AI calls to one lead; the countries AI calls may reach (ISO codes).
CALLING_HOURS = env.str("CALLING_HOURS", default="09:00-21:00")
CALL_MIN_GAP_HOURS = env.int("CALL_MIN_GAP_HOURS", default=24)
CALLING_ALLOWED_COUNTRIES = env.list("CALLING_ALLOWED_COUNTRIES", default=["IN"])
# One entry per provider, keyed by its short name (as Django's CACHES). The provider class is the only
# extension point; other apps react to calls through telephony.signals and telephony.dial_checks.
TELEPHONY_PROVIDERS = {
    "callkaro": {"BACKEND": "callkaro.provider.CallKaroProvider"},
    "acefone": {"BACKEND": "acefone.provider.AcefoneProvider"},
}
TELEPHONY_CONNECT_TIMEOUT = env.float("TELEPHONY_CONNECT_TIMEOUT", default=3.05)
TELEPHONY_READ_TIMEOUT = env.float("TELEPHONY_READ_TIMEOUT", default=10.0)

# --- Calling: telephony core, breaker, dispatch -------------------------------
CELERY_BEAT_SCHEDULE_TELEPHONY: dict = {}
# Retries only where the provider provably did not take the request (refused, 429, 503).
TELEPHONY_HTTP_RETRIES = env.int("TELEPHONY_HTTP_RETRIES", default=2)
TELEPHONY_HTTP_BACKOFF = env.float("TELEPHONY_HTTP_BACKOFF", default=0.3)
TELEPHONY_BREAKER_THRESHOLD = env.int("TELEPHONY_BREAKER_THRESHOLD", default=5)
TELEPHONY_BREAKER_COOLDOWN = env.float("TELEPHONY_BREAKER_COOLDOWN", default=30)
# Acefone's call_timeout DISCONNECTS a call after that many seconds: none is sent unless a maximum
# call length is set (here as the initial value, or on /callkaro-config/), and it is at least 60 s.
ACEFONE_MAX_CALL_SECONDS = env.int("ACEFONE_MAX_CALL_SECONDS", default=None)
if ACEFONE_MAX_CALL_SECONDS is not None and ACEFONE_MAX_CALL_SECONDS < 60:
    raise ImproperlyConfigured("ACEFONE_MAX_CALL_SECONDS must be at least 60 (it disconnects the call)")
ACEFONE_TIME_ZONE = env.str("ACEFONE_TIME_ZONE", default="Asia/Kolkata")
# Provider sandboxes (mounted only when PROVIDER_SANDBOX is on). Faults may also be set at
# runtime through the cache: telephony.sandbox.sandbox_faults_set(provider, **faults).
SANDBOX_WEBHOOK_DELAY = env.float("SANDBOX_WEBHOOK_DELAY", default=2.0)
# "celery": a task with a countdown; "thread": a timer in the web process (tests, where tasks run inline);
# "off": the sandbox answers the API but posts no webhook (a benchmark of our side only).
SANDBOX_WEBHOOK_DELIVERY = env.str("SANDBOX_WEBHOOK_DELIVERY", default="celery")
SANDBOX_DUPLICATE_RATE = env.float("SANDBOX_DUPLICATE_RATE", default=0.2)
SANDBOX_OUTCOME_WEIGHTS = {
    "callkaro": {"connected": 6, "no_answer": 2, "rejected": 1, "voicemail": 1},
    "acefone": {"answered": 7, "missed": 3},
}
# The Call Karo sandbox's own agents: its account, independent of the CRM's table (the demo seed's agents).
SANDBOX_CALLKARO_AGENTS = env.list(
    "SANDBOX_CALLKARO_AGENTS", default=["demo-priya-hi", "demo-arjun-en", "demo-kavya-kn"]
)
# How long one minute of gap_between_retries lasts in the sandbox (seconds), so later tries come soon.
SANDBOX_RETRY_MINUTE_SECONDS = env.float("SANDBOX_RETRY_MINUTE_SECONDS", default=1.0)
# Per provider: latency_ms, status (e.g. 503 or 429), retry_after, timeout (sleep past the read timeout),
# and Call Karo's behaviours (telephony.sandbox.FAULT_KEYS).
SANDBOX_FAULTS: dict = {"callkaro": {}, "acefone": {}}

# --- Call Karo configuration and call panel -----------------------------------
# Starting calls: at most this many per user per window (seconds), counted in the shared cache.
CALL_START_RATE_LIMIT = env.int("CALL_START_RATE_LIMIT", default=30)
CALL_START_RATE_WINDOW = 60
# With the cache (Redis) down, each web process counts call starts itself under this smaller limit.
CALL_START_FALLBACK_LIMIT = env.int("CALL_START_FALLBACK_LIMIT", default=10)
# The call-history fragment re-polls this often while a call is not final.
CALL_HISTORY_POLL_SECONDS = env.int("CALL_HISTORY_POLL_SECONDS", default=3)

# --- Webhooks ------------------------------------------------------------------
# Bodies above this are refused with 413 before they are parsed (a Call Karo transcript is a few kB).
WEBHOOK_MAX_BYTES = env.int("WEBHOOK_MAX_BYTES", default=1024 * 1024)
# The drain (telephony.drain): events claimed per batch; after a batch that was not full, the wait for the
# next to gather (seconds); how long it lingers, holding its flag, before it stops.
TELEPHONY_WEBHOOK_DRAIN_BATCH = env.int("TELEPHONY_WEBHOOK_DRAIN_BATCH", default=200)
TELEPHONY_WEBHOOK_DRAIN_GATHER = env.float("TELEPHONY_WEBHOOK_DRAIN_GATHER", default=0.05)
TELEPHONY_WEBHOOK_DRAIN_LINGER = env.float("TELEPHONY_WEBHOOK_DRAIN_LINGER", default=0.1)
# A call not final this long after its expected end is reconciled (Acefone) or marked `unknown`.
TELEPHONY_STUCK_CALL_MINUTES = env.int("TELEPHONY_STUCK_CALL_MINUTES", default=30)
CELERY_BEAT_SCHEDULE_WEBHOOKS: dict = {
    "webhooks-rematch-unmatched": {
        "task": "telephony.webhook_events_rematch",
        "schedule": 120.0,
        "options": {"expires": 110},
    },
    "webhooks-settle-stuck-calls": {
        "task": "telephony.calls_stuck_settle",
        "schedule": 300.0,
        "options": {"expires": 290},
    },
    "webhooks-purge-old": {"task": "telephony.webhook_events_purge", "schedule": 3600.0, "options": {"expires": 3500}},
    "meta-webhook-purge-old": {
        "task": "metaleads.webhook_records_purge",
        "schedule": 3600.0,
        "options": {"expires": 3500},
    },
}
# Raw webhook requests kept this many days (applied, duplicate, stale; 0 keeps them), and rejected
# (unauthenticated) ones; pending, unmatched and failed ones are kept for the re-match (docs/security.md §3).
WEBHOOK_RETENTION_DAYS = env.int("WEBHOOK_RETENTION_DAYS", default=30)
WEBHOOK_REJECTED_RETENTION_DAYS = env.int("WEBHOOK_REJECTED_RETENTION_DAYS", default=7)
# A client IP rejected this many times in the window (seconds) is answered 429 before anything is written.
WEBHOOK_REJECTED_RATE_LIMIT = env.int("WEBHOOK_REJECTED_RATE_LIMIT", default=30)
WEBHOOK_REJECTED_RATE_WINDOW = env.int("WEBHOOK_REJECTED_RATE_WINDOW", default=60)

# --- Campaigns and scheduler ---------------------------------------------------
# The scheduler claims due rows from the database every few seconds (docs/architecture.md): no long ETAs.
CAMPAIGN_SCHEDULER_INTERVAL_SECONDS = env.float("CAMPAIGN_SCHEDULER_INTERVAL_SECONDS", default=5.0)
CAMPAIGN_SCHEDULER_BATCH = env.int("CAMPAIGN_SCHEDULER_BATCH", default=500)  # most rows claimed per tick
# Most campaign rows claimed but not yet taken by a worker: the dispatcher pages, never floods the broker.
CAMPAIGN_MAX_QUEUED = env.int("CAMPAIGN_MAX_QUEUED", default=200)
# All AI calls live at once (reps' clicks included), and the part of it kept free for reps' own clicks.
CAMPAIGN_GLOBAL_MAX_LIVE = env.int("CAMPAIGN_GLOBAL_MAX_LIVE", default=50)
CAMPAIGN_RESERVED_FOR_REPS = env.int("CAMPAIGN_RESERVED_FOR_REPS", default=5)
# A live call with no webhook for this long stops counting against a campaign's concurrency.
CAMPAIGN_LIVE_CALL_MAX_MINUTES = env.int("CAMPAIGN_LIVE_CALL_MAX_MINUTES", default=30)
# A row left `queued` this long lost its message: enqueue it again (the claim makes that harmless).
CAMPAIGN_QUEUED_STUCK_SECONDS = env.int("CAMPAIGN_QUEUED_STUCK_SECONDS", default=120)
# A row left `dispatching` this long had its worker killed mid-dial: mark it `unknown`, never re-dial.
CAMPAIGN_DISPATCHING_STUCK_SECONDS = env.int("CAMPAIGN_DISPATCHING_STUCK_SECONDS", default=180)
# Resume a campaign paused by an open Call Karo breaker once the breaker closes.
CAMPAIGN_AUTO_RESUME = env.bool("CAMPAIGN_AUTO_RESUME", default=True)
CAMPAIGN_BULK_CHUNK = env.int("CAMPAIGN_BULK_CHUNK", default=2000)
CAMPAIGN_CSV_MAX_BYTES = env.int("CAMPAIGN_CSV_MAX_BYTES", default=10 * 1024 * 1024)
# Uploads larger than this (bytes or rows) are read by a worker, with a progress bar on the preview page.
CAMPAIGN_CSV_ASYNC_BYTES = env.int("CAMPAIGN_CSV_ASYNC_BYTES", default=512 * 1024)
CAMPAIGN_CSV_ASYNC_ROWS = env.int("CAMPAIGN_CSV_ASYNC_ROWS", default=5000)
CELERY_BEAT_SCHEDULE_CAMPAIGNS: dict = {
    "callkaro-scheduler-tick": {
        "task": "callkaro.scheduler_tick",
        "schedule": CAMPAIGN_SCHEDULER_INTERVAL_SECONDS,
        "options": {"expires": CAMPAIGN_SCHEDULER_INTERVAL_SECONDS * 2},
    },
}

# --- Dashboard -----------------------------------------------------------------
# Closed days come from the daily roll-up (reporting.services); a call of a closed day that turns
# final marks its day dirty (counted live until the beat task rebuilds it).
DASHBOARD_ROLLUP_REFRESH_SECONDS = env.float("DASHBOARD_ROLLUP_REFRESH_SECONDS", default=120.0)
CELERY_BEAT_SCHEDULE_DASHBOARD: dict = {
    "dashboard-rollup-refresh": {
        "task": "reporting.rollup_refresh",
        "schedule": DASHBOARD_ROLLUP_REFRESH_SECONDS,
        "options": {"expires": DASHBOARD_ROLLUP_REFRESH_SECONDS - 10},
    },
}

# --- Meta lead ads (metaleads) ------------------------------------------------------
# Initial values; a value saved on /meta-leads-config/ wins. v25.0 is available until July 2028.
META_APP_SECRET = env.str("META_APP_SECRET", default="")
META_VERIFY_TOKEN = env.str("META_VERIFY_TOKEN", default="")
META_PAGE_ACCESS_TOKEN = env.str("META_PAGE_ACCESS_TOKEN", default="")
META_GRAPH_BASE_URL = env.str("META_GRAPH_BASE_URL", default="https://graph.facebook.com/v25.0")
META_BACKFILL_INTERVAL = env.int("META_BACKFILL_INTERVAL", default=300)
# Empty: speed-to-lead is off. Otherwise new leads are called at once by this Call Karo agent.
SPEED_TO_LEAD_AGENT_ID = env.str("SPEED_TO_LEAD_AGENT_ID", default="")
# Calls held for the calling window's opening are staggered this many seconds apart, in arrival order.
SPEED_TO_LEAD_PACE_SECONDS = env.int("SPEED_TO_LEAD_PACE_SECONDS", default=6)
# The beat looks this often for forms due a backfill and deliveries due a retry (one cheap query).
CELERY_BEAT_SCHEDULE_METALEADS: dict = {
    "metaleads-backfill-due": {"task": "metaleads.backfill_due", "schedule": 30.0, "options": {"expires": 25}},
}

CELERY_BEAT_SCHEDULE = {
    **CELERY_BEAT_SCHEDULE_METALEADS,
    **CELERY_BEAT_SCHEDULE_TELEPHONY,
    **CELERY_BEAT_SCHEDULE_WEBHOOKS,
    **CELERY_BEAT_SCHEDULE_CAMPAIGNS,
    **CELERY_BEAT_SCHEDULE_DASHBOARD,
}
