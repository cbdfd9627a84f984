"""Palpate's one settings module, driven by environment variables.

DATABASE_URL         PostgreSQL (``postgres://user:pass@host/db``); unset means SQLite in the data dir.
PALPATE_DATA_DIR     where the SQLite database, the generated secret key and static files live
                     (default ``./var``).
SECRET_KEY           if unset, generated once and stored in ``$PALPATE_DATA_DIR/secret_key`` (0600).
DEBUG                ``1``/``true`` to enable; off by default.
ALLOWED_HOSTS        comma-separated; default ``localhost,127.0.0.1``.
PALPATE_DB_POOL      ``0`` turns off psycopg's connection pool on PostgreSQL (on by default).
PALPATE_SQLITE_SYNCHRONOUS  ``FULL`` (default: a commit survives a power cut) or ``NORMAL`` (faster;
                     the last commits before a power cut may be lost, never corrupted).
PALPATE_AUDIT_KEY    the audit trail's HMAC key; if unset, generated in ``$PALPATE_DATA_DIR/audit_key``.
PALPATE_REDIS_URL    the background queue in Redis (``redis://host:6379/0``); unset: SQLite in the data dir.
PALPATE_BACKUP_*     where, when and how backups are made (see the README's "Backups").
PALPATE_LOG_FORMAT   ``json`` (default: one JSON object per line) or ``text``.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured


def _env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _env_int(name: str, default: int, minimum: int = 0) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}")
    return value


def _private_file(path: Path) -> None:
    """Create ``path`` empty with mode 0600 if missing; tighten it to 0600 if it exists (our own files only)."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
        os.chmod(path, 0o600)
    except PermissionError:
        pass  # not ours to change (a read-only deployment); `palpate check --deploy` reports it


BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("PALPATE_DATA_DIR") or Path.cwd() / "var").resolve()
# The data directory holds the database, the keys and the backups: only its owner may enter it.
DATA_DIR.mkdir(parents=True, exist_ok=True, mode=0o700)
try:
    os.chmod(DATA_DIR, 0o700)
except PermissionError:
    pass


def _secret_key() -> str:
    """The env var wins; otherwise a key generated on first run and kept in the data dir."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        # Create with 0600 so the key is never world-readable, even for a moment.
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(50))
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = _env_bool("DEBUG")
ALLOWED_HOSTS = _env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = _env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    # django-ninja's templates and static files: the API docs' Swagger UI is served by Palpate, not a CDN.
    "ninja",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    # The shared page template, partials, static files and template tags (palpate.lib has no models).
    "palpate.lib",
    "palpate.audit",
    "palpate.clinics",
    "palpate.accounts",
    "palpate.patients",
    "palpate.evaluations",
    "palpate.plans",
    "palpate.reported",
    "palpate.visits",
    "palpate.outcomes",
    "palpate.discharge",
    "palpate.scheduling",
    "palpate.portal",
    "palpate.interop",
    "palpate.ops",
    "palpate.today",
    "palpate.demo",
]

MIDDLEWARE = [
    # First, so its timing and request id cover everything below it.
    "palpate.ops.middleware.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "palpate.web.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Answers to a signed-in person carry patient data: never cached (after authentication, to know).
    "palpate.web.middleware.NoStoreMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "palpate.clinics.middleware.ActiveClinicMiddleware",
    # Sees the 403s and 404s of patient URLs below it, with the member's clinic known.
    "palpate.patients.middleware.DeniedPatientAccessMiddleware",
    "palpate.accounts.middleware.SessionLimitsMiddleware",
    "palpate.accounts.middleware.RequireTwoFactorMiddleware",
    # Axes last, as its documentation asks, so it sees the final authentication result.
    "axes.middleware.AxesMiddleware",
    # After axes: sees a view's exception first (a full disk becomes a clear page, not a 500).
    "palpate.ops.middleware.DiskFullMiddleware",
]

ROOT_URLCONF = "palpate.web.urls"
WSGI_APPLICATION = "palpate.web.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # The project's own pages (403, 404); every app's templates come from the app.
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "builtins": ["template_partials.templatetags.partials"],
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "palpate.clinics.context_processors.active_clinic",
            ],
        },
    }
]

# Databases: SQLite under the data dir unless DATABASE_URL points elsewhere.
if os.environ.get("DATABASE_URL"):
    _db = dj_database_url.parse(os.environ["DATABASE_URL"])
    if _db["ENGINE"] == "django.db.backends.postgresql" and _env_bool("PALPATE_DB_POOL", True):
        # Django's psycopg 3 pool; requires persistent connections to stay off.
        _db["CONN_MAX_AGE"] = 0
        _db.setdefault("OPTIONS", {})["pool"] = {"min_size": 1, "max_size": int(os.environ.get("PALPATE_DB_POOL_MAX", "10"))}
    DATABASES = {"default": _db}
else:
    # FULL: a commit is on disk before it is acknowledged, WAL included, so a power cut never
    # loses an acknowledged write. NORMAL is faster and may lose the last commits on a power cut.
    SQLITE_SYNCHRONOUS = os.environ.get("PALPATE_SQLITE_SYNCHRONOUS", "FULL").strip().upper() or "FULL"
    if SQLITE_SYNCHRONOUS not in {"FULL", "EXTRA", "NORMAL"}:
        raise ImproperlyConfigured("PALPATE_SQLITE_SYNCHRONOUS must be FULL, EXTRA or NORMAL")
    _sqlite_file = DATA_DIR / "palpate.sqlite3"
    # The database is created 0600 (SQLite gives its -wal and -shm files the database's mode).
    for _path in (_sqlite_file, DATA_DIR / "palpate.sqlite3-wal", DATA_DIR / "palpate.sqlite3-shm"):
        if _path == _sqlite_file or _path.exists():
            _private_file(_path)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(_sqlite_file),
            # Keep each worker's connection between requests: opening one (and running the PRAGMAs
            # below) cost a visit-note save about a twentieth of its time. A connection that broke
            # is replaced at the next request (health check). Forked workers never inherit one
            # (palpate.lib.forking).
            "CONN_MAX_AGE": None,
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": {
                # WAL lets readers run while one writer writes; IMMEDIATE takes the write lock at
                # the start of each transaction so two writers queue instead of failing mid-way
                # (this also keeps the audit hash chain linear).
                "init_command": f"PRAGMA journal_mode=WAL; PRAGMA synchronous={SQLITE_SYNCHRONOUS}; "
                                "PRAGMA busy_timeout=5000;",
                "transaction_mode": "IMMEDIATE",
            },
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# Lockout after repeated failures (django-axes, palpate.accounts.lockout): an account after
# PALPATE_LOGIN_FAILURE_LIMIT failures from any addresses, an address after
# PALPATE_LOGIN_FAILURE_LIMIT_PER_ADDRESS failures for any accounts; both cool off after a while.
AXES_FAILURE_LIMIT = _env_int("PALPATE_LOGIN_FAILURE_LIMIT", 5, minimum=1)
PALPATE_LOGIN_FAILURE_LIMIT_PER_ADDRESS = _env_int("PALPATE_LOGIN_FAILURE_LIMIT_PER_ADDRESS", 20, minimum=1)
AXES_COOLOFF_TIME = float(os.environ.get("PALPATE_LOGIN_COOLOFF_HOURS", "0.5"))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_HANDLER = "palpate.accounts.lockout.LockoutHandler"
AXES_CLIENT_IP_CALLABLE = "palpate.lib.decorators.client_ip"
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

# The client's address (audit trail, lockout): REMOTE_ADDR, unless Palpate runs behind a reverse
# proxy that sets a header with it. PALPATE_CLIENT_IP_HEADER names that header (X-Forwarded-For,
# X-Real-IP); only then is it read, and of X-Forwarded-For only the entry the outermost of
# PALPATE_TRUSTED_PROXIES proxies added (palpate.lib.decorators.client_ip).
PALPATE_CLIENT_IP_HEADER = os.environ.get("PALPATE_CLIENT_IP_HEADER", "").strip()
PALPATE_CLIENT_IP_META = ("HTTP_" + PALPATE_CLIENT_IP_HEADER.upper().replace("-", "_")) if PALPATE_CLIENT_IP_HEADER else ""
PALPATE_TRUSTED_PROXIES = _env_int("PALPATE_TRUSTED_PROXIES", 1, minimum=1)

# Password reset links work once and for this long; invitations to join a clinic for this long.
PASSWORD_RESET_TIMEOUT = _env_int("PALPATE_PASSWORD_RESET_MINUTES", 60, minimum=5) * 60
PALPATE_INVITATION_HOURS = _env_int("PALPATE_INVITATION_HOURS", 72, minimum=1)

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = _env_bool("PALPATE_SECURE_COOKIES", not DEBUG and _env_bool("PALPATE_HTTPS"))
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# A session ends at the clinic's absolute limit (Clinic.session_max_hours, at most this) whatever
# the cookie says (palpate.accounts.sessions); the cookie ends with the browser unless the person
# chose "keep me signed in on this device".
PALPATE_DEFAULT_SESSION_HOURS = 12
PALPATE_MAX_SESSION_HOURS = 24
SESSION_COOKIE_AGE = PALPATE_MAX_SESSION_HOURS * 60 * 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
HTTPS = _env_bool("PALPATE_HTTPS")
if HTTPS:
    # Behind a TLS reverse proxy (docs/deploy.md) that sets X-Forwarded-Proto and strips any the
    # client sent. Plain-HTTP requests are redirected, except the probes a load balancer or
    # systemd sends from the same machine.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = _env_bool("PALPATE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
    SECURE_HSTS_SECONDS = _env_int("PALPATE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_bool("PALPATE_HSTS_INCLUDE_SUBDOMAINS")
    SECURE_HSTS_PRELOAD = _env_bool("PALPATE_HSTS_PRELOAD")
# HSTS for subdomains and the preload list commit the whole domain, which is its owner's decision
# (the two settings above), not a fault `palpate check --deploy` should fail on.
SILENCED_SYSTEM_CHECKS = ["security.W005", "security.W021"]

# The idle timeout is a clinic setting; this is the default for new clinics (minutes).
PALPATE_DEFAULT_IDLE_MINUTES = 15
OTP_TOTP_ISSUER = "Palpate"

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# Email (invitations, password resets, appointment reminders, check-ins) through Django's email
# backends. By default messages are written as files in the data directory, so a demo or a
# clinic without a mail server can read them there; set PALPATE_EMAIL_HOST (and the rest) to
# send through an SMTP server, or PALPATE_EMAIL_BACKEND to any Django backend.
EMAIL_FILE_PATH = str(DATA_DIR / "mail")
if not os.environ.get("PALPATE_EMAIL_BACKEND") and not os.environ.get("PALPATE_EMAIL_HOST"):
    # The messages hold invitation and password links: as private as the rest of the data directory.
    Path(EMAIL_FILE_PATH).mkdir(exist_ok=True, mode=0o700)
    try:
        os.chmod(EMAIL_FILE_PATH, 0o700)
    except PermissionError:
        pass
if os.environ.get("PALPATE_EMAIL_BACKEND"):
    EMAIL_BACKEND = os.environ["PALPATE_EMAIL_BACKEND"]
elif os.environ.get("PALPATE_EMAIL_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_HOST = os.environ.get("PALPATE_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("PALPATE_EMAIL_PORT", "587"))
EMAIL_HOST_USER = os.environ.get("PALPATE_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("PALPATE_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = _env_bool("PALPATE_EMAIL_TLS", True)
EMAIL_TIMEOUT = 20
DEFAULT_FROM_EMAIL = os.environ.get("PALPATE_EMAIL_FROM", "Palpate <palpate@localhost>")
# Links in emails (invitations, reminders, check-ins) need the address patients and staff reach.
PALPATE_BASE_URL = os.environ.get("PALPATE_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

# -- the patient side (palpate.portal): its own session cookie, sign-in and lockout --------------------
# What patients are told to call for breathlessness or chest pain until a clinic sets its own number.
PALPATE_EMERGENCY_NUMBER = os.environ.get("PALPATE_EMERGENCY_NUMBER", "911").strip() or "911"
PALPATE_PORTAL_IDLE_MINUTES = _env_int("PALPATE_PORTAL_IDLE_MINUTES", 30, minimum=1)
PALPATE_PORTAL_SESSION_HOURS = _env_int("PALPATE_PORTAL_SESSION_HOURS", 12, minimum=1)

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Serve straight from the apps' static folders too, so tests and a first `make run` need no
# separate collectstatic step to look right.
WHITENOISE_USE_FINDERS = True

# Logs: one JSON object per line on standard error (journald, docker and log shippers read it as
# is). Requests are logged by palpate.ops.middleware with their id, user, clinic and timings, and
# never with names, notes or query strings.
LOG_FORMAT = os.environ.get("PALPATE_LOG_FORMAT", "json").strip().lower()
if LOG_FORMAT not in {"json", "text"}:
    raise ImproperlyConfigured("PALPATE_LOG_FORMAT must be json or text")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
    "loggers": {
        "palpate.request": {"level": os.environ.get("PALPATE_REQUEST_LOG_LEVEL", "INFO")},
        "palpate.worker": {"level": "INFO"},
        "palpate.audit": {"level": "INFO"},
    },
}

# -- operations (palpate.ops): the background worker, backups, health --------------------------------
PALPATE_REDIS_URL = os.environ.get("PALPATE_REDIS_URL", "").strip()
HUEY_SQLITE_FILE = DATA_DIR / "huey.sqlite3"
if not PALPATE_REDIS_URL:
    _private_file(HUEY_SQLITE_FILE)
PALPATE_WORKER_THREADS = _env_int("PALPATE_WORKER_THREADS", 2, minimum=1)
# "thread" (default) runs tasks in threads of one process; "process" forks one process per worker
# (connections are closed before the fork and dropped after it, see palpate.lib.forking).
PALPATE_WORKER_TYPE = os.environ.get("PALPATE_WORKER_TYPE", "thread").strip() or "thread"
if PALPATE_WORKER_TYPE not in {"thread", "process"}:
    raise ImproperlyConfigured("PALPATE_WORKER_TYPE must be thread or process")
PALPATE_WORKER_SHUTDOWN_SECONDS = _env_int("PALPATE_WORKER_SHUTDOWN_SECONDS", 25, minimum=1)
PALPATE_TASK_STALE_MINUTES = _env_int("PALPATE_TASK_STALE_MINUTES", 60, minimum=1)
PALPATE_TASK_HISTORY_DAYS = _env_int("PALPATE_TASK_HISTORY_DAYS", 30, minimum=1)
# Extra modules whose tasks the worker loads (besides every app's tasks.py).
PALPATE_EXTRA_TASK_MODULES = _env_list("PALPATE_EXTRA_TASK_MODULES", "")
PALPATE_HEARTBEAT_MAX_AGE_SECONDS = _env_int("PALPATE_HEARTBEAT_MAX_AGE_SECONDS", 90, minimum=30)
PALPATE_READY_MIN_FREE_MB = _env_int("PALPATE_READY_MIN_FREE_MB", 500)

PALPATE_BACKUP_DIR = Path(os.environ.get("PALPATE_BACKUP_DIR") or DATA_DIR / "backups").resolve()
PALPATE_BACKUP_ENABLED = _env_bool("PALPATE_BACKUP_ENABLED", True)
PALPATE_BACKUP_CRON = os.environ.get("PALPATE_BACKUP_CRON", "30 2 * * *")  # UTC, five cron fields
PALPATE_BACKUP_KEEP = _env_int("PALPATE_BACKUP_KEEP", 14)
PALPATE_BACKUP_MAX_AGE_HOURS = _env_int("PALPATE_BACKUP_MAX_AGE_HOURS", 26, minimum=1)
PALPATE_BACKUP_PASSPHRASE_FILE = os.environ.get("PALPATE_BACKUP_PASSPHRASE_FILE", "")
PALPATE_BACKUP_KEY_FILE = os.environ.get("PALPATE_BACKUP_KEY_FILE", "")
PALPATE_AUDIT_FULL_VERIFY_CRON = os.environ.get("PALPATE_AUDIT_FULL_VERIFY_CRON", "17 3 * * *")

# -- interoperability (palpate.interop): the FHIR API, bulk export, API tokens ------------------------------
PALPATE_API_TOKEN_DEFAULT_DAYS = _env_int("PALPATE_API_TOKEN_DEFAULT_DAYS", 90, minimum=1)
PALPATE_API_TOKEN_MAX_DAYS = _env_int("PALPATE_API_TOKEN_MAX_DAYS", 365, minimum=1)
PALPATE_FHIR_EXPORT_DIR = Path(os.environ.get("PALPATE_FHIR_EXPORT_DIR") or DATA_DIR / "exports").resolve()
PALPATE_FHIR_EXPORT_HOURS = _env_int("PALPATE_FHIR_EXPORT_HOURS", 24, minimum=1)
PALPATE_FHIR_EXPORT_FILE_LINES = _env_int("PALPATE_FHIR_EXPORT_FILE_LINES", 100_000, minimum=1)
