"""Django settings, read from environment variables (strictly parsed, see sijill.core.env).

Profiles (SIJILL_PROFILE): `dev` (default: SQLite, DEBUG on, a fixed development key) and
`production` (refuses to start with the default secret key or with DEBUG on).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from sijill.core.env import Env

env = Env()
BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env.str("SIJILL_VAR_DIR", str(BASE_DIR / "var")))

PROFILE = env.choice("SIJILL_PROFILE", "dev", ("dev", "production"))
DEV_SECRET_KEY = "dev-insecure-sijill-key-never-use-in-production"  # noqa: S105
SECRET_KEY = env.str("SECRET_KEY", DEV_SECRET_KEY)
DEBUG = env.bool("DEBUG", PROFILE == "dev")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])

if PROFILE == "production":
    if SECRET_KEY == DEV_SECRET_KEY or len(SECRET_KEY) < 32:
        raise ImproperlyConfigured(
            "SIJILL_PROFILE=production needs SECRET_KEY set to a random value of 32+ characters"
        )
    if DEBUG:
        raise ImproperlyConfigured("SIJILL_PROFILE=production refuses DEBUG=true")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
    # ninja in INSTALLED_APPS: the API docs load Swagger UI from our static files, not a CDN.
    "ninja",
    # Staff second factor (TOTP), used by the back-office sign-in (sijill.backoffice).
    "django_otp",
    "django_otp.plugins.otp_totp",
    "sijill.core",
    "sijill.geography",
    "sijill.accounts",
    "sijill.audit",
    "sijill.population",
    "sijill.households",
    "sijill.scoring",
    "sijill.programs",
    "sijill.verification",
    "sijill.dci",
    "sijill.dedup",
    "sijill.synthetic",
    "sijill.security",
    "sijill.notifications",
    "sijill.portal",
    "sijill.backoffice",
    "sijill.cases",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "sijill.security.middleware.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "sijill.urls"
WSGI_APPLICATION = "sijill.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "sijill" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASE_URL = env.str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'sijill.sqlite3'}")
# Seconds a connection is kept between requests (0: one per request, the default for the demo
# and the tests). Production behind PgBouncer keeps 0; without a pooler, set 60 or so: a new
# PostgreSQL connection per request costs several milliseconds of a registration's budget.
DATABASES = {"default": dj_database_url.parse(
    DATABASE_URL, conn_max_age=env.int("DATABASE_CONN_MAX_AGE", 0, minimum=0, maximum=3600),
    conn_health_checks=True)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE takes the write lock at BEGIN: concurrent writers queue instead of failing
    # with "database is locked" when a read lock would have to be upgraded.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
IS_POSTGRES = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "/accounts/login/"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "ar"
LANGUAGES = [("ar", _("Arabic")), ("fr", _("French")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "sijill" / "locale"]
TIME_ZONE = "Africa/Casablanca"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"

TASKS = {
    "default": {
        "BACKEND": env.choice(
            "SIJILL_TASK_BACKEND",
            "django_tasks_db.DatabaseBackend",
            ("django_tasks_db.DatabaseBackend", "django_tasks_rq.RQBackend",
             "django_tasks.backends.immediate.ImmediateBackend"),
        ),
    }
}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", 8 * 3600, minimum=300, maximum=14 * 86400)
if PROFILE == "production":
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    CSRF_COOKIE_HTTPONLY = True
    # __Host- cookies: Secure, Path=/, no Domain, so no sibling subdomain can set or read them.
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# No personal data in logs: every handler scrubs IDCS, CNIE and phone numbers
# (sijill.security.logging). Django's own loggers are routed through these handlers too.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"personal_data": {"()": "sijill.security.logging.PersonalDataFilter"}},
    "formatters": {
        "django.server": {"()": "django.utils.log.ServerFormatter",
                          "format": "[{server_time}] {message}", "style": "{"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["personal_data"]},
        "django.server": {"class": "logging.StreamHandler", "formatter": "django.server",
                          "filters": ["personal_data"]},
    },
    "loggers": {
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", "WARNING")},
}

DEMO_PORT = env.int("PORT", 8000, minimum=1, maximum=65535)

# Keys encrypting sensitive declared fields at rest (sijill.security.fields): the first is
# current, the others only decrypt (rotation: new key first, `manage.py rotate_field_keys`, then
# drop the old). Production must set them; dev derives one from SECRET_KEY.
SIJILL_FIELD_KEYS = env.list("SIJILL_FIELD_KEYS", [])
if not SIJILL_FIELD_KEYS:
    if PROFILE == "production":
        raise ImproperlyConfigured("SIJILL_PROFILE=production needs SIJILL_FIELD_KEYS (a "
                                   "comma-separated list of random secrets, current first)")
    SIJILL_FIELD_KEYS = [f"dev-field-key:{SECRET_KEY}"]
elif any(len(key) < 32 for key in SIJILL_FIELD_KEYS):
    raise ImproperlyConfigured("SIJILL_FIELD_KEYS: each key needs 32+ random characters")

# Domain settings
# Values of several types: type checkers read settings.SIJILL[key] as Any.
SIJILL: dict[str, Any] = {
    # Probable-duplicate score (0..1) from which an enrolment is held for an agent's decision.
    "DUPLICATE_HOLD_SCORE": 0.85,
    # Probable-duplicate score from which a candidate is shown at all.
    "DUPLICATE_SHOW_SCORE": 0.5,
    "ADULT_AGE": 18,
    # Verification with partner bodies (every key and its default: sijill/verification/conf.py).
    # A household is scored on what was verified this many seconds after submission, well
    # inside the notice limit; a partner answering later gets it rescored.
    "VERIFICATION_DEADLINE": env.int("SIJILL_VERIFICATION_DEADLINE", 3 * 24 * 3600,
                                     minimum=0, maximum=5 * 24 * 3600),
    "PARTNER_URL": env.str("SIJILL_PARTNER_URL", "http://127.0.0.1:8751"),
    # The index notice leaves within this many days of registration (5 to 10).
    "NOTICE_LIMIT_DAYS": env.int("SIJILL_NOTICE_LIMIT_DAYS", 10, minimum=5, maximum=10),
    # Score reviews: asked from the index notice (day 0) to the end of this day after it
    # (calendar days in Africa/Casablanca).
    "REVIEW_WINDOW_DAYS": 60,
    # Complaints: answered by the end of this day after filing, else escalated.
    "COMPLAINT_RESPONSE_DAYS": 15,
    # Idempotency-Key answers are kept this long for replays, then deleted (they may hold a
    # whole household): a client retries within minutes, at worst within days.
    "IDEMPOTENCY_DAYS": env.int("SIJILL_IDEMPOTENCY_DAYS", 7, minimum=1, maximum=90),
}

# DCI Social Registry API (sijill.dci): the registry's sender_id in message headers, and its
# Ed25519 signing key (base64 of a 32-byte seed; derived from SECRET_KEY when empty).
SIJILL_DCI_SENDER_ID = env.str("SIJILL_DCI_SENDER_ID", "sijill.registry")
SIJILL_DCI_SIGNING_KEY = env.str("SIJILL_DCI_SIGNING_KEY", "")

# Notifications (sijill.notifications; every key and its default: sijill/notifications/conf.py).
NOTIFICATIONS: dict[str, Any] = {
    "SMS_BACKEND": env.str("SIJILL_SMS_BACKEND", "sijill.notifications.backends.FileBackend"),
    "SMS_GATEWAY_URL": env.str("SIJILL_SMS_GATEWAY_URL", ""),
    "SMS_GATEWAY_TOKEN": env.str("SIJILL_SMS_GATEWAY_TOKEN", ""),
    "OUTBOX_DIR": VAR_DIR / "outbox",
}
