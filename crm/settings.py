"""Settings for the lead CRM, read from the environment and an optional ``.env`` file.

Sections: general, database, apps, security, Celery, providers. Every value has a
safe local default, except what production must set (``SECRET_KEY`` with DEBUG off).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)
# Run-time files: the file-system broker, the file cache, beat's schedule.
VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))

# --- General -----------------------------------------------------------------
DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set it in the environment or .env "
            "(see .env.example), or set DEBUG=true for local development."
        )
    SECRET_KEY = "insecure-local-development-key-do-not-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Kolkata")
USE_TZ = True
USE_I18N = True
LANGUAGE_CODE = "en-in"
ROOT_URLCONF = "crm.urls"
WSGI_APPLICATION = "crm.wsgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

# --- Database ----------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and IMMEDIATE transactions let the web server and the worker share the file.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    # A new PostgreSQL connection per request measured 6x slower here: keep them.
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=600)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    # File-based so that the web server and the worker share breaker state and rate limits.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# --- Apps ----------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "phonenumber_field",
    "axes",
    "csp",
    "crm.apps.CrmConfig",
    "telephony.apps.TelephonyConfig",
    "callkaro.apps.CallKaroConfig",
    "acefone.apps.AcefoneConfig",
    "reporting.apps.ReportingConfig",
    "metaleads.apps.MetaLeadsConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "crm.context_processors.navigation",
            ]
        },
    }
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/call-panel/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
# Uploaded files (a draft campaign's CSV). Never served by URL: only the server reads them.
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default="") or VAR_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

PHONENUMBER_DEFAULT_REGION = env.str("PHONENUMBER_DEFAULT_REGION", default="IN")
PHONENUMBER_DB_FORMAT = "E164"

# --- Security ------------------------------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp; Django 6 has it built in). No inline script or style anywhere:
# scripts and styles are files under static/, htmx is configured by a meta tag. Pico's CSS draws its
# icons from data: SVGs, hence img-src data:.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
# Login throttling (django-axes) on the app's and the admin's login: after AXES_FAILURE_LIMIT failures
# an account, and separately a client IP, is refused until AXES_COOLOFF_TIME has passed (docs/security.md).
# TeamMemberBackend: Django's model backend that also shuts out a switched-off team member (docs/security.md).
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "crm.auth_backends.TeamMemberBackend"]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Behind a reverse proxy REMOTE_ADDR is the proxy: TRUSTED_PROXY_COUNT proxies' X-Forwarded-For entries are read.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "crm.client_ip.client_ip"
# Fernet keys for secrets at rest, newest first. Derived from SECRET_KEY only in DEBUG.
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[])

# --- Logging -------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
# Every log record is redacted where it is made (crm.logging.record_redaction_install): a webhook
# `?token=` in runserver's, Django's or gunicorn's request lines never reaches a log in clear.
LOGGING_CONFIG = "crm.logging.logging_configure"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "redact_secrets": {"()": "crm.logging.RedactSecretsFilter"},
        "quiet_forbidden": {"()": "crm.logging.QuietForbiddenFilter"},
    },
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact_secrets"],
        }
    },
    "loggers": {
        "crm": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": True},
        "callkaro": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": True},
        "acefone": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": True},
        "metaleads": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": True},
        # A 403 is a person reaching a page their role does not open: one line, no traceback.
        "django.request": {"filters": ["quiet_forbidden"]},
        # Celery's per-tick chatter (beat sending, each task received/succeeded) only at debug level.
        **{
            name: {"level": "DEBUG" if LOG_LEVEL == "DEBUG" else "WARNING"}
            for name in ("celery.beat", "celery.app.trace", "celery.worker.strategy")
        },
    },
}

# --- Celery --------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="") or REDIS_URL or "filesystem://"
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    # A broker that needs no server, for `make run` on a bare machine; a real worker reads it.
    _queue_dir = VAR_DIR / "celery" / "queue"
    _queue_dir.mkdir(parents=True, exist_ok=True)
    (VAR_DIR / "celery" / "processed").mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(VAR_DIR / "celery" / "processed"),
        "control_folder": str(VAR_DIR / "celery" / "control"),
        "store_processed": False,
    }
elif CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # Never rely on long ETAs (docs/architecture.md); this only bounds redelivery after a lost worker.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)}
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or REDIS_URL or None
CELERY_TASK_IGNORE_RESULT = CELERY_RESULT_BACKEND is None
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 120
CELERY_TASK_SOFT_TIME_LIMIT = 90
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# CELERY_BEAT_SCHEDULE is assembled at the end of this file. Beat's state file (last run times) sits
# with the other run-time files under var/, whichever way beat is started.
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

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
# "celery": a task with a countdown; "thread": a timer in the web process (tests, where tasks run inline).
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
