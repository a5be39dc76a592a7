"""The one settings module. Every knob is an environment variable (see .env.example).

Defaults are safe for production (DEBUG off, secure cookies); `make run` turns DEBUG on
for local use. A production configuration that lacks a secret refuses to start, naming it.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
from pathlib import Path

import django_stubs_ext
import environ
from django.core.exceptions import ImproperlyConfigured

# Lets admin/queryset generics be subscripted at runtime (type hints in wizard/admin.py).
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A local .env is a convenience for developers; real deployments set the environment.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG: bool = env.bool("DEBUG", default=False)


def _required(name: str, dev_default: str) -> str:
    """Return the variable, or in DEBUG a development default; refuse to start otherwise."""
    value: str = env.str(name, default="")
    if value.strip():
        return value
    if DEBUG:
        return dev_default
    raise ImproperlyConfigured(
        f"The environment variable {name} is required when DEBUG is off. See .env.example."
    )


def _flag(name: str, *, default: bool) -> bool:
    """A boolean variable; set but empty counts as unset (as in .env.example)."""
    if not env.str(name, default="").strip():
        return default
    return bool(env.bool(name))


SECRET_KEY = _required("SECRET_KEY", "dev-only-insecure-key-do-not-use-in-production")
ALLOWED_HOSTS: list[str] = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS: list[str] = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# How many reverse proxies in front of the app append to X-Forwarded-For (login throttling
# needs the real client address). 0: use the connection's address.
NUM_PROXIES: int = env.int("NUM_PROXIES", default=0)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "django_tasks",
    "django_tasks_db",
    "axes",
    "wizard",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Outside everything that can answer an error, so that every error under /api/ is JSON.
    "wizard.api_errors.ApiJsonErrorsMiddleware",
    "wizard.middleware.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a login refused by the throttle into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "wizard.context_processors.sandbox",
                "wizard.context_processors.wizard_steps",
            ],
        },
    }
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
# Persistent connections: opening one per request cost more than the whole cached step page
# (docs/performance.md). Health checks drop a connection the database closed meanwhile.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# A database that does not answer must fail a request within seconds: psycopg's own default
# waits 130 s for a connection, and every request (the readiness probe too) hung that long.
DATABASE_CONNECT_TIMEOUT: int = env.int("DATABASE_CONNECT_TIMEOUT", default=3)
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    _db_options = DATABASES["default"].setdefault("OPTIONS", {})
    # A value in DATABASE_URL (?connect_timeout=…) wins. libpq counts at least 2 s.
    _db_options.setdefault("connect_timeout", DATABASE_CONNECT_TIMEOUT)
    # An open (persistent) connection to a host that went silent: drop it once data sent has
    # gone unacknowledged for 10 s, instead of the kernel's ~15 minutes of retransmissions.
    _db_options.setdefault("tcp_user_timeout", 10_000)
# /readyz answers 503 when the database has not answered within this many seconds.
READYZ_TIMEOUT_SECONDS: float = env.float("READYZ_TIMEOUT_SECONDS", default=3.0)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {
    "default": env.cache("CACHE_URL", default="locmemcache://"),
    # Rendered step pages (wizard/page_cache.py): always this process's own memory, never a
    # shared cache, so they are never persisted and a restart or deploy empties them.
    "pages": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "wizard-pages",
        "TIMEOUT": 300,
        "OPTIONS": {"MAX_ENTRIES": 1000},
    },
}
# Serve a step page again from memory while nothing it shows has changed (checked in SQL on
# every request). PAGE_CACHE_VERIFY (tests) also renders it afresh and fails on any difference.
# Off in DEBUG, where a template edited on disk must show at the next reload.
PAGE_CACHE = _flag("PAGE_CACHE", default=not DEBUG)
PAGE_CACHE_VERIFY = _flag("PAGE_CACHE_VERIFY", default=False)

# Required in production: the console backend would write reset and invitation links into the
# logs.
EMAIL_CONFIG = env.email_url_config(_required("EMAIL_URL", "consolemail://"))
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="wizard@localhost")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# AxesStandaloneBackend authenticates nobody: it refuses a throttled login before ModelBackend
# checks the password, so every authenticate() call shares the throttle (/accounts/login/,
# /admin/login/, and any later way to log in).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Login throttling (docs/security.md#login-throttling): 5 failures for one username, or from one
# address, lock it for 15 minutes after the last counted failure. The counts are rows in the
# database (axes_accessattempt), so every worker and server shares them.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = datetime.timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# Count the username as Django resolves it (stripped, NFKC), not as typed; the address as
# NUM_PROXIES says.
AXES_USERNAME_CALLABLE = "wizard.auth.login_username"
AXES_CLIENT_IP_CALLABLE = "wizard.auth.client_address"
# The login page itself says why it refused ("Too many failed attempts…"), not a bare 403.
AXES_LOCKOUT_CALLABLE = "wizard.auth.lockout_response"
# Tries during a lockout are refused without being counted: the lockout ends 15 minutes after
# it started, instead of lasting for as long as someone keeps guessing.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# Keep only what the throttle needs: no table of every successful login.
AXES_DISABLE_ACCESS_LOG = True
# Masked in axes' log lines and in the POST data it stores with a failure.
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "csrfmiddlewaretoken"]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "wizard:home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Hashed, compressed file names in production (after collectstatic); plain in DEBUG and tests.
STATIC_MANIFEST: bool = _flag("STATIC_MANIFEST", default=not DEBUG)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if STATIC_MANIFEST
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# Security: secure by default; DEBUG (local http) relaxes only what http cannot do.
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = _flag("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = int(
    env.str("SECURE_HSTS_SECONDS", default="").strip() or (0 if DEBUG else 31536000)
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]

# Secrets at rest: Fernet keys, newest first. In DEBUG without keys, a development key is
# derived from SECRET_KEY so that `make run` works with no configuration.
_dev_fernet_key = base64.urlsafe_b64encode(
    hashlib.sha256(("fernet:" + SECRET_KEY).encode()).digest()
).decode()
SECRET_ENCRYPTION_KEYS: list[str] = [
    k.strip() for k in _required("SECRET_ENCRYPTION_KEYS", _dev_fernet_key).split(",") if k.strip()
]
for _key in SECRET_ENCRYPTION_KEYS:
    # Checked at start-up, not at the first save: a bad key must stop the deploy, and the
    # message must not echo the key.
    try:
        if len(base64.urlsafe_b64decode(_key.encode())) != 32:
            raise ValueError
    except ValueError:
        raise ImproperlyConfigured(
            "SECRET_ENCRYPTION_KEYS holds a value that is not a Fernet key (32 url-safe base64 "
            "bytes). Generate one with: python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'"
        ) from None

# Autotask
AUTOTASK_SANDBOX: bool = env.bool("AUTOTASK_SANDBOX", default=False)
# The integration code (API tracking identifier) of the vendor 'Rhipe - Cloud Services'.
# It belongs to the distributor, never to the partner, and is never shown.
AUTOTASK_INTEGRATION_CODE: str = (
    env.str("AUTOTASK_INTEGRATION_CODE", default="") or "SANDBOX-INTEGRATION-CODE"
    if AUTOTASK_SANDBOX
    else _required("AUTOTASK_INTEGRATION_CODE", "SANDBOX-INTEGRATION-CODE")
)
AUTOTASK_ZONE_INFORMATION_URL: str = env.str(
    "AUTOTASK_ZONE_INFORMATION_URL",
    default="https://webservices.autotask.net/atservicesrest/v1.0/zoneInformation",
)
AUTOTASK_TIMEOUT_SECONDS: float = env.float("AUTOTASK_TIMEOUT_SECONDS", default=15.0)
# First wait before retrying a read (doubles each retry; never for a 401). Background work
# (re-verification) only: a page a person waits for does not retry, it has a deadline.
AUTOTASK_BACKOFF_SECONDS: float = env.float("AUTOTASK_BACKOFF_SECONDS", default=0.5)
# What a page may spend on Autotask in all, in seconds: a Verify, and a picker search or
# contract list. Checks not made by then come back "could not be checked".
AUTOTASK_INTERACTIVE_DEADLINE_SECONDS: float = env.float(
    "AUTOTASK_INTERACTIVE_DEADLINE_SECONDS", default=20.0
)
AUTOTASK_SEARCH_DEADLINE_SECONDS: float = env.float("AUTOTASK_SEARCH_DEADLINE_SECONDS", default=5.0)
# Autotask calls in flight at once per tenant, over all workers sharing CACHE_URL (per worker
# with the local-memory cache). See docs/decisions/0009-autotask-concurrency-cap.md.
AUTOTASK_MAX_CONCURRENT_PER_TENANT: int = env.int("AUTOTASK_MAX_CONCURRENT_PER_TENANT", default=6)
if min(AUTOTASK_INTERACTIVE_DEADLINE_SECONDS, AUTOTASK_SEARCH_DEADLINE_SECONDS) <= 0:
    raise ImproperlyConfigured("The AUTOTASK_*_DEADLINE_SECONDS settings must be above 0.")
if AUTOTASK_MAX_CONCURRENT_PER_TENANT < 1:
    raise ImproperlyConfigured("AUTOTASK_MAX_CONCURRENT_PER_TENANT must be at least 1.")

# Wizard
STUCK_AFTER_DAYS: int = env.int("STUCK_AFTER_DAYS", default=7)
# Absolute links in drift alert emails (sent by background runs, with no request) point here.
SITE_URL: str = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

# Background work (scheduled re-verification) through Django's task API. "immediate" runs a
# task as soon as it is enqueued (tests, `make run`); "database" queues it for the workers
# started with `python manage.py db_worker` (production).
TASKS_BACKEND: str = env.str("TASKS_BACKEND", default="immediate")
if TASKS_BACKEND not in ("immediate", "database"):
    raise ImproperlyConfigured("TASKS_BACKEND must be 'immediate' or 'database'.")
TASKS = {
    "default": {
        "BACKEND": (
            "django_tasks_db.DatabaseBackend"
            if TASKS_BACKEND == "database"
            else "django_tasks.backends.immediate.ImmediateBackend"
        )
    },
    # Always available by name, so an operator (or a test) can queue for the workers explicitly.
    "database": {"BACKEND": "django_tasks_db.DatabaseBackend"},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "wizard.logging.RedactSecretsFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]}
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Django's own request errors go through the same redacting handler, not mail_admins.
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        # django-axes: failed logins and lockouts (warnings), not a line for every clean-up.
        "axes": {"level": "WARNING"},
        # runserver's access log: Django gives it a handler of its own, without the filter,
        # and its lines hold request paths (invitation and password-reset links).
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}

# Error reports (DEBUG pages, mail_admins) hide these settings and POST fields.
DEFAULT_EXCEPTION_REPORTER_FILTER = "wizard.logging.SecretsExceptionReporterFilter"
