"""The one settings module, read from the environment.

DATABASE_URL  sqlite:///path (default: db.sqlite3 beside manage.py) or postgres://…
SECRET_KEY    required unless DEBUG is on; production refuses to start without it
DEBUG         "1"/"true" for development; off by default so a forgotten flag fails safe
ALLOWED_HOSTS comma-separated; defaults to localhost when DEBUG is on

A local file (ANNOTATOR_ENV_FILE, default .env.local beside manage.py; written once by
`dev.py demo`, git-ignored) supplies KEY=VALUE defaults for development. The real
environment wins, and an environment that says DEBUG is off (production, `dev.py
serve`) never reads it, so production still needs its own SECRET_KEY.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_flag(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name, "")
    items = [item.strip() for item in raw.split(",") if item.strip()]
    return items or default


def read_local_env(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of the local file ('#' comments, blank lines allowed)."""
    values = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, equals, value = line.partition("=")
        if not equals or not key.strip():
            raise ImproperlyConfigured(
                f"{path}, line {number}: expected KEY=VALUE, got {line[:40]!r}."
            )
        values[key.strip()] = value.strip()
    return values


# pytest (8.2+) sets PYTEST_VERSION for the whole session: tests may use the dev key.
UNDER_PYTEST = "PYTEST_VERSION" in os.environ

LOCAL_ENV = Path(os.environ.get("ANNOTATOR_ENV_FILE", BASE_DIR / ".env.local"))
# Not when the environment turns DEBUG off: a production process must not pick up a
# developer's DEBUG=1 or generated key from a checkout. Not under pytest either: the
# suite tests production settings and must not turn DEBUG on after a demo.
if env_flag("DEBUG", True) and not UNDER_PYTEST and LOCAL_ENV.is_file():
    for _key, _value in read_local_env(LOCAL_ENV).items():
        os.environ.setdefault(_key, _value)

DEBUG = env_flag("DEBUG")

_DEV_SECRET = "django-insecure-development-only-key-never-use-in-production"
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not (DEBUG or UNDER_PYTEST):
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set SECRET_KEY to a long random string "
            "(python -c 'import secrets; print(secrets.token_urlsafe(50))'), "
            "or set DEBUG=1 for local development."
        )
    SECRET_KEY = _DEV_SECRET
elif not DEBUG and (SECRET_KEY.startswith("django-insecure") or len(SECRET_KEY) < 32):
    raise ImproperlyConfigured(
        "SECRET_KEY looks like a placeholder (it starts with 'django-insecure' or is "
        "shorter than 32 characters); production needs a real secret."
    )

ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "axes",
    "corpus",
    # Before django_tasks_db: our db_worker (which first sweeps jobs whose worker
    # died) must win over its own of the same name.
    "annotator",
    "django_tasks",
    "django_tasks_db",
]

MIDDLEWARE = [
    # First, so its duration covers the rest and its status is the one sent.
    "annotator.middleware.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Before anything reads the body (CSRF reads it in process_view, after every
    # __call__); after the user is known: only importers may send large uploads.
    "annotator.middleware.BodySizeLimitMiddleware",
    "annotator.middleware.Utf8RequestMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last: turns a login refused for too many failures into the lockout page.
    "axes.middleware.AxesMiddleware",
    # Its process_exception answers a view's exception (database down, signed out
    # under htmx) before Django's handlers would; where it sits does not matter.
    "annotator.middleware.ErrorAnswerMiddleware",
]
# A stale CSRF token (signed in or out in another tab): a page that says so, or a
# fragment carrying the current token for htmx-errors.js to retry with.
CSRF_FAILURE_VIEW = "annotator.views.errors.csrf_failure"

ROOT_URLCONF = "annotator.urls"
WSGI_APPLICATION = "annotator.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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


def database_config(url: str) -> dict:
    """Parse DATABASE_URL; SQLite gets IMMEDIATE transactions so claims serialise."""
    config = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # WAL lets readers proceed during a write; IMMEDIATE takes the write lock at
        # BEGIN, so two coders claiming at once queue instead of failing midway.
        config["CONN_MAX_AGE"] = 0
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    return config


DATABASES = {
    "default": database_config(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Long work (gold refreshes) runs in `manage.py db_worker` processes, not in the
# request: django-tasks with its database backend, so the queue is a table of the
# same database and needs no other service. TASKS_BACKEND=immediate runs a task
# inside the call that enqueues it; the test suite does that by default, so a test
# that asks for gold sees it computed (tests/annotator/test_worker.py runs real
# workers against the database backend).
TASKS_BACKEND = os.environ.get(
    "TASKS_BACKEND", "immediate" if UNDER_PYTEST else "database"
)
if TASKS_BACKEND not in {"immediate", "database"}:
    raise ImproperlyConfigured(
        f"TASKS_BACKEND must be 'database' or 'immediate', not {TASKS_BACKEND!r}."
    )
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend"
        if TASKS_BACKEND == "database"
        else "django_tasks.backends.immediate.ImmediateBackend",
    }
}
# A running job whose worker is on another machine is taken for dead when its
# progress has not moved for this long (one on this machine: when its process is
# gone). Read by the sweep (annotator/services/job_sweep.py).
JOB_STALE_AFTER = timedelta(
    seconds=int(os.environ.get("JOB_STALE_AFTER_SECONDS", 30 * 60))
)
# The agreement report's bootstrap (1,000 resamples per dimension) runs in the page
# request for a dimension of up to this many pairable units; above, its intervals
# are the last background job's (annotator/services/agreement_jobs.py), which the
# page queues when the data changed. What it saves depends on the data: with few
# distinct unit patterns (bench/agreement.py's) a small share of the report, which is
# then reading and breakdowns (bench/RESULTS.md).
AGREEMENT_BOOTSTRAP_IN_REQUEST_MAX_UNITS = int(
    os.environ.get("AGREEMENT_BOOTSTRAP_IN_REQUEST_MAX_UNITS", 20_000)
)
# The machine coder's classifier parameters over annotator/machine/classifier.py's
# DEFAULTS, a JSON object (e.g. {"word_features": 262144}: smaller models).
MACHINE_CODER_PARAMS = os.environ.get("MACHINE_CODER_PARAMS") or "{}"
# Tests only: a job sleeps this long after each step of progress, so a test can
# kill its worker midway (tests/annotator/test_worker.py).
JOB_TEST_PAUSE_SECONDS = float(os.environ.get("ANNOTATOR_JOB_TEST_PAUSE", 0) or 0)

# Repeated failed logins (django-axes, counted in the database so every app server
# sees them): 5 failures for one username from one address lock that pair out for
# 15 minutes; a success resets the count. 30 failures from one address across all
# usernames lock the address out (auth_backends.LoginThrottleBackend).
AUTHENTICATION_BACKENDS = [
    "annotator.auth_backends.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", 5))
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False  # no banner on every manage.py command; lockouts answer 429
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_LOCKOUT_CALLABLE = "annotator.auth_backends.lockout_response"
LOGIN_ADDRESS_FAILURE_LIMIT = int(os.environ.get("LOGIN_ADDRESS_FAILURE_LIMIT", 30))
# Behind PROXY_COUNT proxies the client is the address the outermost one appended to
# X-Forwarded-For; direct (0), REMOTE_ADDR (auth_backends.client_address).
PROXY_COUNT = int(os.environ.get("PROXY_COUNT", 0))
AXES_CLIENT_IP_CALLABLE = "annotator.auth_backends.client_address"
AXES_USERNAME_CALLABLE = "annotator.auth_backends.attempted_username"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"django.contrib.auth.password_validation.{name}"}
    for name in (
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    )
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # Hashed names let browsers cache forever; they need collectstatic's manifest,
        # which development and tests do without.
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG or UNDER_PYTEST
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG or UNDER_PYTEST

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Email (invitations, password resets): printed on the console in development
# (DEBUG); in production sent by SMTP to EMAIL_HOST. EMAIL_BACKEND overrides both;
# the tests use Django's in-memory outbox.
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", 587 if env_flag("EMAIL_USE_TLS") else 25))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_flag("EMAIL_USE_TLS")
EMAIL_USE_SSL = env_flag("EMAIL_USE_SSL")
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", 10))  # a page waits this at most
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "annotator@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# An invitation's link works for this many days after it was (re)sent; a password
# reset link for PASSWORD_RESET_TIMEOUT seconds (Django's default: 3 days).
INVITATION_VALID_DAYS = int(os.environ.get("INVITATION_VALID_DAYS", 7))
# Password reset emails (views/people.PasswordResetView): at most this many requests
# per address and per client IP (PROXY_COUNT as for logins) within the window,
# counted in the database so every web process sees the same counts (there is no
# shared cache). Over a limit the page answers as always but sends nothing, and logs.
PASSWORD_RESET_EMAIL_LIMIT = int(os.environ.get("PASSWORD_RESET_EMAIL_LIMIT", 3))
PASSWORD_RESET_IP_LIMIT = int(os.environ.get("PASSWORD_RESET_IP_LIMIT", 20))
PASSWORD_RESET_WINDOW_MINUTES = int(os.environ.get("PASSWORD_RESET_WINDOW_MINUTES", 60))

# Uploads larger than this are streamed to a temporary file rather than held in RAM.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
# Request bodies: BodySizeLimitMiddleware answers 413 before reading one over these
# (every body, multipart included: DATA_UPLOAD_MAX_MEMORY_SIZE; an upload to the
# corpus import page by a user who may import, or to a project's codings import page
# by its managers: CORPUS_UPLOAD_MAX_BYTES, per file and for the whole request; an
# archive to the restore page: ARCHIVE_UPLOAD_MAX_BYTES below; the pages:
# annotator/upload_limits.py). Import limits per file: corpus/importing/base.py.
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
CORPUS_UPLOAD_MAX_BYTES = int(
    os.environ.get("CORPUS_UPLOAD_MAX_BYTES", 200 * 1024 * 1024)
)
# restore_project refuses a decompressed line over this (a document row's, which
# holds its whole text: over the second), or an archive of more rows
# (annotator/archive/lines.py): what bounds its memory, whatever the file holds.
ARCHIVE_MAX_LINE_BYTES = int(os.environ.get("ARCHIVE_MAX_LINE_BYTES", 1024**2))
ARCHIVE_MAX_TEXT_LINE_BYTES = int(
    os.environ.get("ARCHIVE_MAX_TEXT_LINE_BYTES", 64 * 1024**2)
)
ARCHIVE_MAX_ROWS = int(os.environ.get("ARCHIVE_MAX_ROWS", 20_000_000))
# An archive uploaded to the restore page (by a user who may create projects) is
# refused over this, before it is stored; larger ones: manage.py restore_project.
ARCHIVE_UPLOAD_MAX_BYTES = int(
    os.environ.get("ARCHIVE_UPLOAD_MAX_BYTES", 200 * 1024 * 1024)
)

REST_FRAMEWORK = {
    # Token first: DRF answers an anonymous request with the first class's
    # challenge, and only Token has one (401 + WWW-Authenticate; Session gives 403).
    # DRF's TokenAuthentication with its look-up in one SQL statement (0.45 ms of
    # CPU less per request); every refusal is still DRF's own code.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "annotator.api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # DRF's three, with JSON nested too deeply answered 400 (annotator/api/parsers.py).
    "DEFAULT_PARSER_CLASSES": [
        "annotator.api.parsers.JSONBodyParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Annotator API",
    "DESCRIPTION": "Corpora, coding, agreement and gold-standard labels.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # The docs page serves Swagger UI from the sidecar package: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

if not DEBUG:
    SESSION_COOKIE_SECURE = env_flag("SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = env_flag("SECURE_COOKIES", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # Plain HTTP is redirected to HTTPS, except the load balancer's health probe.
    # Off under pytest (the test client speaks plain HTTP); SECURE_SSL_REDIRECT=0 for
    # a local gunicorn without a proxy (the benchmarks do that).
    SECURE_SSL_REDIRECT = env_flag("SECURE_SSL_REDIRECT", not UNDER_PYTEST)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 30))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_flag("SECURE_HSTS_PRELOAD", True)
    SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"

# Content-Security-Policy (django-csp): scripts, styles, images, fonts and connections
# from this origin only; no inline script or style, no eval, no framing. Templates
# therefore carry no style attributes (bars and heatmaps use static/…/scales.css).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler"},
        # One line per request (annotator/middleware.py), on stdout for the
        # process manager or container runtime to collect.
        "requests": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": "plain",
        },
    },
    "loggers": {
        "annotator.requests": {
            "handlers": ["requests"],
            # WARNING silences it (the benchmarks do, to keep their output readable)
            "level": os.environ.get("REQUEST_LOG_LEVEL", "INFO"),
            "propagate": False,
        },
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}
