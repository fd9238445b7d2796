"""Settings, all read from the environment with django-environ.

Every setting below is listed with its default in `.env.example`. The defaults are the embedded
default (`make run`): SQLite, django-q2's ORM broker, no HTTPS. Production changes environment
variables only (see README, "Deployment").
"""

import base64
import hashlib
import logging
import os
import secrets
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
# A `.env` beside manage.py is read when present; real environment variables win over it.
# ENV_FILE names another file ("" reads none: the tests' "no environment at all").
ENV_FILE = os.environ.get("ENV_FILE", str(BASE_DIR / ".env"))
if ENV_FILE:
    environ.Env.read_env(ENV_FILE, overwrite=False)

logger = logging.getLogger("settings")

DEBUG = env.bool("DEBUG", default=False)


def _local_secret_key() -> str:
    """A key made once for this checkout, kept in var/ (git-ignored).

    Without SECRET_KEY the embedded default must still start on a fresh machine, and sessions must
    survive a restart, so the key is generated once and kept rather than made anew each start.
    """
    path = VAR_DIR / "secret_key"
    if not path.exists():
        VAR_DIR.mkdir(exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = env.str("SECRET_KEY", default="")
SECRET_KEY_GENERATED = not SECRET_KEY
if SECRET_KEY_GENERATED:
    SECRET_KEY = _local_secret_key()
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_countries",
    "django_q",
    "integration.crm",
    "integration.rights",
    "integration.connectors",
    "integration.digitalefactuur",
    "integration.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "settings.urls"

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

WSGI_APPLICATION = "settings.wsgi.application"

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Django's SQLite backend with the loaded library's own parameter limit instead of 999, so
    # a page of the import is one INSERT per table (integration/db/sqlite3/base.py).
    DATABASES["default"]["ENGINE"] = "integration.db.sqlite3"
    # Web and worker write the same file: wait for the other's lock instead of failing at once,
    # and let readers go on while one writes.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
    # Tests start real worker processes (qcluster) that must see the test database, which an
    # in-memory database would hide from them; they read its name from this setting. One file
    # per test process, so that two test runs on one checkout never share a database.
    DATABASES["default"].setdefault("TEST", {})["NAME"] = env.str(
        "TEST_SQLITE_PATH", default=str(VAR_DIR / f"test-db-{os.getpid()}.sqlite3"))
else:
    # PostgreSQL (`DATABASE_URL=postgres://...`, needs the extra `scale`: psycopg 3).
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
    # Tests: pytest-django creates this database and drops it afterwards. One per test process
    # (like the SQLite file above), so that two test runs on one machine never share one.
    DATABASES["default"].setdefault("TEST", {})["NAME"] = env.str(
        "TEST_DATABASE_NAME", default="") or f"test_{DATABASES['default']['NAME']}_{os.getpid()}"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "admin:login"

LANGUAGE_CODE = "nl"
LANGUAGES = [("nl", _("Nederlands")), ("en", _("Engels"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Amsterdam"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=VAR_DIR / "static")
# WhiteNoise warns at every start when the folder is missing; collectstatic fills it later.
Path(STATIC_ROOT).mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Serve straight from the apps' static folders too, so the embedded default needs no
# collectstatic; production runs collectstatic once (README, "Deployment").
WHITENOISE_USE_FINDERS = True

# --- HTTPS -------------------------------------------------------------------------------------
# The app speaks plain HTTP; TLS ends at a proxy in front of it. HTTPS=true says there is such a
# proxy: cookies become Secure, plain HTTP is redirected, HSTS is sent and the proxy's
# X-Forwarded-Proto header is trusted. With HTTPS=false (the embedded default on 127.0.0.1)
# `check --deploy` reports exactly these settings, and nothing else (README, "Deployment").
HTTPS = env.bool("HTTPS", default=False)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"

# --- DigitaleFactuur ---------------------------------------------------------------------------
DIGITALEFACTUUR_PRODUCTION_URL = "https://administratie.digitalefactuur.nl/api"
# The sandbox `make run` starts beside the CRM (integration/dfsandbox).
SANDBOX_PORT = env.int("SANDBOX_PORT", default=8001)
DIGITALEFACTUUR_SANDBOX_URL = f"http://127.0.0.1:{SANDBOX_PORT}/api"
# The embedded default: `make run` writes DIGITALEFACTUUR_SANDBOX=true into .env once, so the
# web, the worker and every manage.py in this checkout talk to the sandbox when no address is
# set. It only changes the default: DIGITALEFACTUUR_BASE_URL, when set, always wins. Production
# (no such line; `make serve-production` forces false) talks to the real service.
DIGITALEFACTUUR_SANDBOX = env.bool("DIGITALEFACTUUR_SANDBOX", default=False)
DIGITALEFACTUUR_BASE_URL = env.str(
    "DIGITALEFACTUUR_BASE_URL",
    default=DIGITALEFACTUUR_SANDBOX_URL if DIGITALEFACTUUR_SANDBOX
    else DIGITALEFACTUUR_PRODUCTION_URL,
).rstrip("/")
DIGITALEFACTUUR_CONNECT_TIMEOUT = env.float("DIGITALEFACTUUR_CONNECT_TIMEOUT", default=5.0)
DIGITALEFACTUUR_READ_TIMEOUT = env.float("DIGITALEFACTUUR_READ_TIMEOUT", default=15.0)
# "Koppeling testen" must answer while the administrator waits.
DIGITALEFACTUUR_TEST_TIMEOUT = env.float("DIGITALEFACTUUR_TEST_TIMEOUT", default=5.0)
DIGITALEFACTUUR_MAX_ATTEMPTS = env.int("DIGITALEFACTUUR_MAX_ATTEMPTS", default=4)
DIGITALEFACTUUR_RETRY_BUDGET = env.float("DIGITALEFACTUUR_RETRY_BUDGET", default=60.0)
# The largest klanten list answer accepted, in MB. A list is read while it arrives, a klant at a
# time, so this bounds the network and the time, not the memory: 256 MB is some 250,000 klanten
# in one answer (a service that does not page). Every other answer stays under 20 MB.
DIGITALEFACTUUR_MAX_LIST_MB = env.int("DIGITALEFACTUUR_MAX_LIST_MB", default=256)
# Requests to DigitaleFactuur in flight at once, at most: the cap of the adaptive limit
# (concurrency.py), which starts at 1 and learns from the answers (a 429 halves it). 1 keeps
# every run strictly sequential. DIGITALEFACTUUR_EXPORT_CONCURRENCY is its former name, still
# read when the new one is not set.
_CONCURRENCY_NAME = next((name for name in ("DIGITALEFACTUUR_CONCURRENCY",
                                            "DIGITALEFACTUUR_EXPORT_CONCURRENCY")
                          if name in os.environ),
                         "DIGITALEFACTUUR_CONCURRENCY")
try:
    DIGITALEFACTUUR_CONCURRENCY = env.int(_CONCURRENCY_NAME, default=8)
except ValueError:
    DIGITALEFACTUUR_CONCURRENCY = 0  # reported just below, with the rule
if not 1 <= DIGITALEFACTUUR_CONCURRENCY <= 8:
    raise ImproperlyConfigured(
        f"{_CONCURRENCY_NAME} must be a whole number from 1 (one request at a time) to 8 "
        f"(the default); got {env.str(_CONCURRENCY_NAME)!r}")


def _derived_field_key(secret_key: str) -> str:
    digest = hashlib.sha256(b"digitalefactuur-field-encryption:" + secret_key.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


# Fernet keys, comma-separated, newest first: the first encrypts, all decrypt (rotation).
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEY", default=[])
FIELD_ENCRYPTION_KEY_DERIVED = not FIELD_ENCRYPTION_KEYS
if FIELD_ENCRYPTION_KEY_DERIVED:
    # The embedded default derives the key from SECRET_KEY, so a fresh checkout works at once;
    # changing SECRET_KEY then makes a stored access code unreadable (it must be entered again).
    # `manage.py check` says so (integration.digitalefactuur.checks).
    FIELD_ENCRYPTION_KEYS = [_derived_field_key(SECRET_KEY)]

# --- Task queue (django-q2) --------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
SYNC_TASK_TIMEOUT = env.int("SYNC_TASK_TIMEOUT", default=3600)
Q_CLUSTER = {
    # Workers with the same name share one queue (and the name salts the signed task payloads):
    # every `qcluster` of one installation, on any machine, has the same name; two installations
    # sharing one Redis need two names. (Not Q_CLUSTER_NAME: django-q2 reads that variable itself,
    # to pick one of several queues of one site.)
    "name": env.str("Q_NAME", default="digitalefactuur"),
    "workers": env.int("Q_WORKERS", default=2),
    # A sync run of a large account may take long; django-q2 requires retry > timeout, or a task
    # still running would be handed to a second worker. (Only the ORM broker hands a task out
    # again; Redis forgets a task whose worker died, and the next run does its work.)
    "timeout": SYNC_TASK_TIMEOUT,
    "retry": SYNC_TASK_TIMEOUT + 300,
    "max_attempts": 1,
    "catch_up": False,
    "save_limit": 1000,
    "label": _("Taken"),
    "poll": env.float("Q_POLL", default=0.2),
}
if REDIS_URL:
    # django-q2's Redis broker takes the URL as it is (redis.from_url; needs the extra `scale`).
    # Redis holds only the queue: results, failures and schedules stay in the database.
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

SYNC_LOG_RETENTION_DAYS = env.int("SYNC_LOG_RETENTION_DAYS", default=90)
# A sync run's lock expires this many seconds after its holder's last heartbeat (a dead worker).
SYNC_LOCK_TTL = env.int("SYNC_LOCK_TTL", default=300)
# A relation saved in the CRM is pushed once it has been quiet this long (bursts coalesce).
SYNC_PUSH_DEBOUNCE = env.float("SYNC_PUSH_DEBOUNCE", default=0.5)

# --- Alerts (integration/digitalefactuur/alerts.py) ---------------------------------------------
# The same problem is mailed at most once per this many hours; a recovery is mailed once.
SYNC_ALERT_QUIET_HOURS = env.float("SYNC_ALERT_QUIET_HOURS", default=6)
# Where the links in a mail point: the address users open the CRM at.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="PerfectView <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Mail: smtp://user:password@host:587 (or smtp+tls://, smtps://) through django-environ.
# Empty: the embedded default writes every mail as a file into var/mail/.
EMAIL_URL = env.str("EMAIL_URL", default="")
if EMAIL_URL:
    globals().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = VAR_DIR / "mail"

# --- Demo --------------------------------------------------------------------------------------
DEMO_USERNAME = env.str("DEMO_USERNAME", default="beheerder")
DEMO_PASSWORD = env.str("DEMO_PASSWORD", default="koppeling-demo")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
