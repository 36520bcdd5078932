"""Settings, read from the environment (README lists every variable)."""

import base64
import hashlib
import ipaddress
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from integrations_site.env import envbool, envint, envlist, envnetworks, envproxy, envrate, envstr, weak_key_reason

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(envstr("INTEGRATIONS_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = envbool("DJANGO_DEBUG", True)

_DEV_SECRET_KEY = "dev-only-insecure-secret-key-change-me-0123456789abcdef"
SECRET_KEY = envstr("DJANGO_SECRET_KEY") or (_DEV_SECRET_KEY if DEBUG else None)
if not SECRET_KEY:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY is required when DJANGO_DEBUG is false")

ALLOWED_HOSTS = envlist("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = envlist("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "organizations",
    "integrations",
    "runners",
    "prompts",
    "playground",
    "evaluations",
    "api",
    "operations",
    "axes",
]

MIDDLEWARE = [
    # First: probes and scrapes arrive by IP address and over plain HTTP (no host check, no HTTPS redirect).
    "operations.middleware.OperationsEndpointsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Content-Security-Policy on every answer (CONTENT_SECURITY_POLICY below).
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes requires: it answers a locked-out sign-in with its lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "integrations_site.urls"
WSGI_APPLICATION = "integrations_site.wsgi.application"

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
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        envstr("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=0,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Workers hold hundreds of runs in flight on threads; a pool keeps the
    # number of server connections bounded (connections are returned while
    # a run waits on its provider).
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1,
        "max_size": envint("DATABASE_POOL_SIZE", 10, minimum=1),
        "timeout": 30,
    }
else:
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 30, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
    # A file (not in-memory) so that worker subprocesses in the tests can open it; one per
    # test session so that concurrent sessions on one machine do not share it.
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-db-{os.getpid()}.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

AUTHENTICATION_BACKENDS = [
    # Refuses a sign-in while its account or address is locked out (before the password is checked).
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Throttled sign-in (django-axes, /accounts/login/ and the admin login; failures are recorded in the database).
# After LOGIN_FAILURE_LIMIT failures for one username, or from one address, further attempts are refused with
# HTTP 429 and a page that says so until LOGIN_LOCKOUT_MINUTES have passed without a new failure; a success resets.
AXES_FAILURE_LIMIT = envint("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=envint("LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "organizations.signin.lockout_response"
AXES_SENSITIVE_PARAMETERS = ["password"]
# Behind N reverse proxies that each append to X-Forwarded-For, the client's address is the Nth entry from the right
# (entries further left are whatever the client sent); with 0 it is REMOTE_ADDR, which a client cannot forge.
LOGIN_PROXY_COUNT = envint("LOGIN_PROXY_COUNT", 0)
AXES_CLIENT_IP_CALLABLE = "organizations.signin.client_ip"

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/settings/integrations"
LOGOUT_REDIRECT_URL = "/accounts/login/"

# Secrets at rest (integrations/encryption.py): INTEGRATIONS_ENCRYPTION_KEYS, comma-separated, the first encrypts and
# any decrypts (rotation without downtime); the single-key INTEGRATIONS_ENCRYPTION_KEY is still accepted. Separate
# from SECRET_KEY in production; in development derived from SECRET_KEY for convenience.
_single_key = envstr("INTEGRATIONS_ENCRYPTION_KEY")
INTEGRATIONS_ENCRYPTION_KEYS = envlist("INTEGRATIONS_ENCRYPTION_KEYS", [])
if _single_key and INTEGRATIONS_ENCRYPTION_KEYS and _single_key not in INTEGRATIONS_ENCRYPTION_KEYS:
    raise ImproperlyConfigured(
        "INTEGRATIONS_ENCRYPTION_KEY is not one of INTEGRATIONS_ENCRYPTION_KEYS: set only INTEGRATIONS_ENCRYPTION_KEYS"
    )
INTEGRATIONS_ENCRYPTION_KEYS = INTEGRATIONS_ENCRYPTION_KEYS or ([_single_key] if _single_key else [])
if not INTEGRATIONS_ENCRYPTION_KEYS:
    if not DEBUG:
        raise ImproperlyConfigured(
            "INTEGRATIONS_ENCRYPTION_KEYS or INTEGRATIONS_ENCRYPTION_KEY is required when DJANGO_DEBUG is false"
        )
    INTEGRATIONS_ENCRYPTION_KEYS = [
        base64.urlsafe_b64encode(hashlib.sha256(f"encryption:{SECRET_KEY}".encode()).digest()).decode()
    ]
if not DEBUG:
    for _position, _key in enumerate(INTEGRATIONS_ENCRYPTION_KEYS, start=1):
        _weakness = weak_key_reason(_key, secret_key=SECRET_KEY)
        if _weakness:
            raise ImproperlyConfigured(
                f"Encryption key {_position} of INTEGRATIONS_ENCRYPTION_KEYS is weak ({_weakness}): generate one "
                'with python -c "import secrets; print(secrets.token_urlsafe(48))"'
            )
# The key that encrypts (kept for code and tools that read one key).
INTEGRATIONS_ENCRYPTION_KEY = INTEGRATIONS_ENCRYPTION_KEYS[0]

# Broker and shared cache: Redis when REDIS_URL is set, otherwise embedded
# defaults that need no server (a filesystem broker and a file cache).
REDIS_URL = envstr("REDIS_URL")
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    _broker_dir = VAR_DIR / "broker"
    for _folder in ("queue", "processed", "control"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
        "polling_interval": 0.2,
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

RUNNERS_REQUEST_TIMEOUT = envint("RUNNERS_REQUEST_TIMEOUT", 120, minimum=1)
RUNNERS_CONNECT_TIMEOUT = envint("RUNNERS_CONNECT_TIMEOUT", 10, minimum=1)
# Seconds a running evaluation's per-model summary may lag behind its outputs (evaluations.results).
EVALUATIONS_SUMMARY_MAX_AGE = envint("EVALUATIONS_SUMMARY_MAX_AGE", 5)
RUNNERS_MAX_RETRIES = envint("RUNNERS_MAX_RETRIES", 2, minimum=0)
# The largest provider answer a runner reads, in bytes (a completion, an event stream, an error or a token answer):
# beyond it the run fails with response_too_large. Bounds what one integration can make a shared worker hold: at most
# this times the runs in flight (WORKER_CONCURRENCY).
RUNNERS_MAX_RESPONSE_BYTES = envint("RUNNERS_MAX_RESPONSE_BYTES", 8 * 1024 * 1024, minimum=1024)
# Backoff between retries: base * 2**n with jitter, capped; Retry-After is honoured up to its own cap.
RUNNERS_BACKOFF_BASE = envint("RUNNERS_BACKOFF_BASE", 1, minimum=0)
RUNNERS_BACKOFF_MAX = envint("RUNNERS_BACKOFF_MAX", 30, minimum=0)
RUNNERS_RETRY_AFTER_MAX = envint("RUNNERS_RETRY_AFTER_MAX", 60, minimum=0)
# A run never runs longer than this on a live worker (the worker enforces it) ...
RUNNERS_MAX_RUN_SECONDS = envint(
    "RUNNERS_MAX_RUN_SECONDS",
    RUNNERS_REQUEST_TIMEOUT * (RUNNERS_MAX_RETRIES + 1) + RUNNERS_BACKOFF_MAX * RUNNERS_MAX_RETRIES + 30,
    minimum=1,
)
# ... so one still `running` after this has lost its worker: its redelivered message may take it over,
# and the reaper marks it failed. It is also the broker's visibility timeout.
RUNNERS_LOST_AFTER_SECONDS = envint("RUNNERS_LOST_AFTER_SECONDS", RUNNERS_MAX_RUN_SECONDS + 60, minimum=1)
RUNNERS_REAP_INTERVAL = envint("RUNNERS_REAP_INTERVAL", 300, minimum=0)
# A run still `running` this long is failed by the reaper; 0: twice RUNNERS_LOST_AFTER_SECONDS.
RUNNERS_REAP_AFTER_SECONDS = envint("RUNNERS_REAP_AFTER_SECONDS", 0)
# An evaluation still `creating` this long had its creation message lost: the reaper sends it again.
EVALUATIONS_CREATING_LOST_AFTER_SECONDS = envint(
    "EVALUATIONS_CREATING_LOST_AFTER_SECONDS", RUNNERS_LOST_AFTER_SECONDS, minimum=1
)
# SSRF policy (core/network_policy.py): link-local and metadata addresses are always refused; loopback and
# private ranges are refused in production (a member must not make a worker call the product itself), allowed in
# debug so that the quickstart reaches a local model; the listed CIDRs stay reachable while blocking.
RUNNERS_BLOCK_PRIVATE_NETWORKS = envbool("RUNNERS_BLOCK_PRIVATE_NETWORKS", not DEBUG)
RUNNERS_ALLOWED_NETWORKS = envnetworks("RUNNERS_ALLOWED_NETWORKS")
# The operator's outbound proxy for every runner connection (core/egress.py), off by default; the hosts, domains
# (.example.com) and CIDRs in RUNNERS_PROXY_BYPASS connect directly, under the address policy.
RUNNERS_PROXY = envproxy("RUNNERS_HTTPS_PROXY", "RUNNERS_PROXY_BYPASS")

# The queue runs are published to and workers consume (one per deployment sharing a broker).
CELERY_TASK_DEFAULT_QUEUE = envstr("RUNNERS_QUEUE", "celery")
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# The runners wait on providers, not on the CPU: a threads pool with many slots (one asyncio loop per process does the
# network I/O). Set here, not only on a command line, so that `celery -A integrations_site worker` with no flags, as
# Celery's documentation and deployment guides start it, is the tuned worker. Command-line flags still override.
CELERY_WORKER_POOL = "threads"
CELERY_WORKER_CONCURRENCY = envint("WORKER_CONCURRENCY", 200, minimum=1)
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# The threads pool does not enforce time limits (runners enforce RUNNERS_MAX_RUN_SECONDS themselves);
# these apply when a worker runs with the prefork pool.
CELERY_TASK_SOFT_TIME_LIMIT = RUNNERS_MAX_RUN_SECONDS + 30
CELERY_TASK_TIME_LIMIT = CELERY_TASK_SOFT_TIME_LIMIT + 30
CELERY_TASK_ALWAYS_EAGER = envbool("CELERY_TASK_ALWAYS_EAGER", False)
if REDIS_URL:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # An unacknowledged message (its worker was killed) comes back after this long.
        "visibility_timeout": RUNNERS_LOST_AFTER_SECONDS,
        # One Redis list per step; a worker takes from the lowest step first (runners.dispatch.PRIORITY:
        # interactive 0, judges 3, batch outputs 6). kombu's default, written out because the order relies on it.
        "priority_steps": [0, 3, 6, 9],
    }
    if REDIS_URL.startswith("redis://"):
        # kombu's Redis transport, sharing one client for its acknowledgements (integrations_site/broker.py).
        CELERY_BROKER_TRANSPORT = "integrations_site.broker:Transport"
# Batch runs (evaluation outputs) each organisation has published and unfinished at most (runners.dispatch): its
# share of the workers when several organisations' evaluations run at once. Set it near the total worker concurrency
# (all workers' WORKER_CONCURRENCY) so that one organisation alone still fills every slot.
RUNNERS_BATCH_WINDOW = envint("RUNNERS_BATCH_WINDOW", 200, minimum=1)
# How long the concurrency a provider's 429 set for an integration (runners.limits) lasts without another 429.
RUNNERS_BACKOFF_CEILING_SECONDS = envint("RUNNERS_BACKOFF_CEILING_SECONDS", 300, minimum=1)

GALILEO_CUSTOM_LLMS_ENABLED = envbool("GALILEO_CUSTOM_LLMS_ENABLED", False)
GALILEO_CUSTOM_LLMS_DIRECTORY = envstr("GALILEO_CUSTOM_LLMS_DIRECTORY", "/opt/custom_llms")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["api.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.exception_handlers.api_exception_handler",
    "UNAUTHENTICATED_USER": None,
    # Per API key (per user for the browser's session): 429 with Retry-After beyond API_THROTTLE_RATE.
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.ApiKeyRateThrottle"],
}
# Requests per API key (or per signed-in user), counted in the shared cache: "N/second|minute|hour|day", or "off".
API_THROTTLE_RATE = envrate("API_THROTTLE_RATE", "1200/minute")
SPECTACULAR_SETTINGS = {
    "TITLE": "Custom model integrations API",
    "VERSION": "2.0.0",
    "DESCRIPTION": "Custom model integrations, their models, and runs. Authenticate with `Galileo-API-Key: KEY` "
    "or `Authorization: Bearer KEY`. Errors are JSON with a `detail`; invalid input is a 422 whose `detail` lists "
    "each problem with its `loc`.",
    "SERVE_INCLUDE_SCHEMA": False,
    "OAS_VERSION": "3.1.0",
    "SCHEMA_PATH_PREFIX": "/api/v2",
    # The docs page is served from installed static files (no CDN).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "RunStatusEnum": "runners.models.RunStatus",
        # Two choice sets are fields named "kind": a metric's, and what an integration's deletion would break.
        "MetricKindEnum": ["llm_judge", "code"],
        "DependentKindEnum": ["metric", "prompt"],
    },
}
# Django's bound on a request body held in memory (files excepted). A dataset pasted into its form may be 5 MB
# (evaluations.datasets.MAX_BYTES), and form encoding can double it: 12 MiB lets every upload path take the
# documented size and answer a field error beyond it.
DATA_UPLOAD_MAX_MEMORY_SIZE = envint("DATA_UPLOAD_MAX_MEMORY_SIZE", 12 * 1024 * 1024, minimum=1024)

# Operations (operations/): /healthz, /readyz and /metrics.
HEALTH_CHECK_TIMEOUT = envint("HEALTH_CHECK_TIMEOUT", 2, minimum=1)
# /metrics answers only with the token, from the networks, or both when both are set; with neither it is off
# (404), except from loopback addresses in debug.
METRICS_TOKEN = envstr("METRICS_TOKEN") or None
try:
    METRICS_ALLOWED_NETWORKS = [
        ipaddress.ip_network(cidr, strict=False) for cidr in envlist("METRICS_ALLOWED_NETWORKS", [])
    ]
except ValueError as exc:
    raise ImproperlyConfigured(f"METRICS_ALLOWED_NETWORKS: {exc}") from None
METRICS_INTEGRATION_LABELS = envbool("METRICS_INTEGRATION_LABELS", False)
METRICS_INTEGRATION_LABELS_MAX = envint("METRICS_INTEGRATION_LABELS_MAX", 20, minimum=1)

# Content-Security-Policy (django-csp): the pages' own static scripts and styles only, nothing inline, no framing;
# data: images for the API docs' icons. The API docs page adds inline styles (api/urls.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_SSL_REDIRECT = envbool("DJANGO_SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = envint("DJANGO_SECURE_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOG_FORMAT = envstr("LOG_FORMAT", "plain")
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be plain or json, not {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "core.log_context.JsonLinesFormatter"},
    },
    # Lines logged while a worker executes a run carry its run_id, integration_id and organization_id.
    "filters": {"run_ids": {"()": "core.log_context.RunContextFilter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["run_ids"]},
    },
    "root": {"handlers": ["console"], "level": envstr("LOG_LEVEL", "INFO")},
    "loggers": {
        # LiteLLM and httpx log request details (headers included) at DEBUG/INFO.
        "LiteLLM": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        # django-axes logs every sign-in at INFO; failures and lockouts are WARNING.
        "axes": {"level": "WARNING"},
    },
}
