"""OmniDesk settings, driven by the environment.

With nothing set, OmniDesk runs on an embedded default: SQLite and Celery tasks
executed in-process, so ``make demo`` works on a bare machine. Set ``DATABASE_URL``
(PostgreSQL) and ``REDIS_URL`` for the real thing. ``OMNIDESK_PROFILE=production``
turns on the hardened profile that passes ``manage.py check --deploy``.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


PROFILE = os.environ.get("OMNIDESK_PROFILE", "development")
PRODUCTION = PROFILE == "production"

DEBUG = env_bool("DEBUG", default=not PRODUCTION)
_DEV_SECRET = "omnidesk-development-only-secret-key-not-for-production-use-0123456789"  # noqa: S105
SECRET_KEY = os.environ.get("SECRET_KEY", "" if PRODUCTION else _DEV_SECRET)
if PRODUCTION and not SECRET_KEY:
    raise RuntimeError("SECRET_KEY must be set when OMNIDESK_PROFILE=production")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "" if PRODUCTION else "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "django_tables2",
    "django_filters",
    "axes",
    "orders",
    "integrations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "omnidesk.middleware.SessionIdleTimeoutMiddleware",
    # After the session and the user are read (always on the primary), so that the moment a request
    # wrote is in the session before SessionMiddleware saves it; inert without DATABASE_REPLICA_URL.
    "omnidesk.middleware.ReplicaReadsMiddleware",
    "omnidesk.middleware.ViewerTimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes requires: it turns a lockout raised during login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

if PRODUCTION:  # runserver serves static files in development; WhiteNoise does in production
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")

ROOT_URLCONF = "omnidesk.urls"
WSGI_APPLICATION = "omnidesk.wsgi.application"

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

# --- Database -------------------------------------------------------------------
# DATABASE_URL=postgres://postgres@127.0.0.1:5432/omnidesk ; unset or empty -> SQLite file.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
# DATABASE_REPLICA_URL (optional): a read replica of that PostgreSQL. Search, the staff screens and
# the API's reads go there; writes, the admin, sign-in, tasks and commands stay on the primary, and
# so does a person's every read for OMNIDESK_REPLICA_STICKY_SECONDS after they wrote (omnidesk/routers.py).
if os.environ.get("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = {
        **dj_database_url.parse(
            os.environ["DATABASE_REPLICA_URL"],
            conn_max_age=DATABASES["default"]["CONN_MAX_AGE"],
            conn_health_checks=True,
        ),
        # Under test it points at the test database: no second one is created. `make test` clears the
        # variable anyway; tests/test_replica_router.py gives the alias a real database of its own.
        "TEST": {"MIRROR": "default"},
    }
    DATABASE_ROUTERS = ["omnidesk.routers.ReplicaRouter"]
# PostgreSQL's parallel query is for analytical scans. Starting its workers took ~20 ms on the bench database,
# more than any query of the staff screens costs (the S13 price query: 2.5 ms of work behind them), and the rules
# over 1M orders ran no faster with them (docs/scaling.md). DB_PARALLEL_WORKERS=N gives N back per query.
DB_PARALLEL_WORKERS = int(os.environ.get("DB_PARALLEL_WORKERS", "0"))
for _database in DATABASES.values():
    if _database["ENGINE"] == "django.db.backends.postgresql":
        _options = _database.setdefault("OPTIONS", {})
        _given = _options.get("options", "")  # a ?options=… in the URL comes first; ours is added after it
        _options["options"] = f"{_given} -c max_parallel_workers_per_gather={DB_PARALLEL_WORKERS}".strip()
OMNIDESK_REPLICA_STICKY_SECONDS = float(os.environ.get("OMNIDESK_REPLICA_STICKY_SECONDS", "10"))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth, sessions ----------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
SESSION_COOKIE_AGE = 12 * 60 * 60  # absolute cap: 12 h after signing in
SESSION_IDLE_TIMEOUT = int(os.environ.get("SESSION_IDLE_TIMEOUT", str(30 * 60)))  # and 30 min without a request
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# Login throttling (django-axes): 5 failures for one username from one IP lock that pair
# for 15 minutes, so one store's shared IP does not lock everybody else out.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("AXES_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked.html"
# Behind n reverse proxies (each appending to X-Forwarded-For) set AXES_PROXY_COUNT=n; 0: REMOTE_ADDR only.
OMNIDESK_PROXY_COUNT = int(os.environ.get("AXES_PROXY_COUNT", "0"))
AXES_CLIENT_IP_CALLABLE = "omnidesk.client_ip.client_ip"
AXES_VERBOSE = False

# Content Security Policy (django-csp): no inline script, no eval, no inline styles.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- I18N ----------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Static files --------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# --- Celery --------------------------------------------------------------------------
# REDIS_URL set -> real broker; unset -> tasks run in-process (eager) for the demo.
REDIS_URL = os.environ.get("REDIS_URL", "")
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = False
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 15 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 14 * 60
# Redis redelivers an unacked task after the visibility timeout; keep it well above
# every task's hard time limit so a long sync is never handed to a second worker.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 60 * 60}
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
# The one beat schedule: a dispatcher every 15 s starts a sync for each enabled
# source whose interval has elapsed (intervals are per source, set in the admin);
# every 5 min the detection rules run over every order, for the flags only time opens
# (a grace period running out). Each sync run, and each webhook, runs them for the orders it touched.
# Webhooks have a queue of their own (a worker at the web's CPU priority keeps them fresh during
# backfills); each source's syncs go to sync.<source> (integrations/tasks.py sync_enqueue).
CELERY_TASK_ROUTES = {"integrations.tasks.process_webhook": {"queue": "webhooks"}}  # integrations.tasks.WEBHOOK_QUEUE
CELERY_BEAT_SCHEDULE = {
    "dispatch-due-syncs": {
        "task": "integrations.tasks.dispatch_due_syncs",
        "schedule": 15.0,
        "options": {"expires": 14},
    },
    "detect-flags": {
        "task": "orders.tasks.detect_flags",
        "schedule": 5 * 60.0,
        "options": {"expires": 4 * 60},
    },
    "push-pending-pickups": {
        "task": "orders.tasks.push_pending_pickups",
        "schedule": 2 * 60.0,
        "options": {"expires": 110},
    },
    # Monthly partitions of the timeline and raw payloads: the next months made ahead, raw retention applied.
    "partitions-upkeep": {
        "task": "orders.tasks.partitions_upkeep",
        "schedule": crontab(minute=17, hour=3),
        "options": {"expires": 6 * 60 * 60},
    },
}

# --- OmniDesk ------------------------------------------------------------------------
# Key used to encrypt upstream credentials at rest (Fernet). Falls back to a key
# derived from SECRET_KEY; set it explicitly in production so rotating SECRET_KEY
# does not make stored credentials unreadable.
OMNIDESK_CREDENTIALS_KEY = os.environ.get("OMNIDESK_CREDENTIALS_KEY", "")
# Sources on loopback/private addresses (the sandbox retailer, an on-premises ERP): off unless set.
OMNIDESK_ALLOW_PRIVATE_SOURCES = env_bool("OMNIDESK_ALLOW_PRIVATE_SOURCES", False)
if PRODUCTION and not OMNIDESK_CREDENTIALS_KEY:
    raise RuntimeError("OMNIDESK_CREDENTIALS_KEY must be set when OMNIDESK_PROFILE=production")
# Celery worker processes lower their CPU priority by this much (nice), so staff requests come first.
OMNIDESK_WORKER_NICENESS = int(os.environ.get("OMNIDESK_WORKER_NICENESS", "10"))
# Raw upstream payloads (kept for audit and replay) are dropped by month once older than this many months,
# except those an open dead letter or a waiting webhook delivery still needs (orders/partitions.py); 0 keeps all.
OMNIDESK_RAW_RETENTION_MONTHS = int(os.environ.get("OMNIDESK_RAW_RETENTION_MONTHS", "13"))
OMNIDESK_HTTP_TIMEOUT = float(os.environ.get("OMNIDESK_HTTP_TIMEOUT", "10"))
OMNIDESK_HTTP_RETRIES = int(os.environ.get("OMNIDESK_HTTP_RETRIES", "4"))
OMNIDESK_HTTP_BACKOFF = float(os.environ.get("OMNIDESK_HTTP_BACKOFF", "0.5"))
OMNIDESK_HTTP_MAX_RETRY_AFTER = float(os.environ.get("OMNIDESK_HTTP_MAX_RETRY_AFTER", "30"))

# Customer messages (issue 5): printed to the console unless an SMTP server is configured.
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if os.environ.get("EMAIL_HOST")
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "OmniDesk customer service <service@localhost>")
_NOT_SENDING = ("console", "locmem", "dummy", "filebased")
if PRODUCTION and any(f".{kind}." in EMAIL_BACKEND for kind in _NOT_SENDING):
    raise RuntimeError(
        "OMNIDESK_PROFILE=production needs a mail backend that sends: set EMAIL_HOST (SMTP) or EMAIL_BACKEND"
    )

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Production hardening (manage.py check --deploy) ---------------------------------
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(60 * 60 * 24 * 365)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
    X_FRAME_OPTIONS = "DENY"
