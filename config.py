"""Configuration classes: the only place in cityapp that reads the environment."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("CITYAPP_INSTANCE_DIR", BASE_DIR / "instance"))


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw not in (None, "") else default


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return float(raw) if raw not in (None, "") else default


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        # Hosting platforms hand out postgres:// URLs; SQLAlchemy wants the driver spelled out.
        if url.startswith("postgres://"):
            url = "postgresql+psycopg://" + url[len("postgres://") :]
        elif url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://") :]
        return url
    return f"sqlite:///{INSTANCE_DIR / 'cityapp.sqlite3'}"


def _development_secret_key() -> str:
    """Generate a secret once and keep it in instance/, so sessions survive restarts."""
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    path = INSTANCE_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


class Config:
    """Settings shared by every environment."""

    ENV_NAME = "base"
    CITYAPP_NAME = os.environ.get("CITYAPP_NAME", "Musterstadt")
    CITYAPP_TIMEZONE = os.environ.get("CITYAPP_TIMEZONE", "Europe/Berlin")
    CITYAPP_DEFAULT_LANGUAGE = "de"
    CITYAPP_LANGUAGES = ("de", "en", "de-x-ls")
    CITYAPP_BASE_URL = os.environ.get("CITYAPP_BASE_URL", "http://127.0.0.1:8000")

    SQLALCHEMY_DATABASE_URI = _database_url()
    MIGRATIONS_DIR = str(BASE_DIR / "migrations")
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    # PostgreSQL: ping a pooled connection before use only if it sat idle this long (seconds);
    # one saved round trip per request under load. 0 pings on every checkout (pool_pre_ping).
    CITYAPP_DB_PING_AFTER_IDLE_S = _env_float("CITYAPP_DB_PING_AFTER_IDLE_S", 1.0)
    SQLITE_BUSY_TIMEOUT_MS = _env_int("CITYAPP_SQLITE_BUSY_TIMEOUT_MS", 15000)

    REDIS_URL = os.environ.get("REDIS_URL") or None

    # Upload limits: the request body cap applies to every request.
    MAX_CONTENT_LENGTH = _env_int("CITYAPP_MAX_CONTENT_LENGTH", 12 * 1024 * 1024)
    CITYAPP_MAX_JSON_LENGTH = _env_int("CITYAPP_MAX_JSON_LENGTH", 1024 * 1024)
    # Longest query string (bytes) the app answers; longer ones get a problem+json 414. Keep it
    # below gunicorn's limit_request_line (gunicorn.conf.py: 8190) so the app answers first.
    CITYAPP_MAX_QUERY_LENGTH = _env_int("CITYAPP_MAX_QUERY_LENGTH", 4096)
    # JSON nested deeper than this is refused (400) before any recursive parser sees it.
    CITYAPP_MAX_JSON_DEPTH = _env_int("CITYAPP_MAX_JSON_DEPTH", 32)
    CITYAPP_MAX_IMAGE_BYTES = _env_int("CITYAPP_MAX_IMAGE_BYTES", 10 * 1024 * 1024)
    # Decoded images above this many pixels are refused (decompression bombs).
    CITYAPP_MAX_IMAGE_PIXELS = _env_int("CITYAPP_MAX_IMAGE_PIXELS", 40_000_000)

    # Content: the municipality's bounding area (WGS 84, "min_lon,min_lat,max_lon,max_lat");
    # district polygons and announcement areas must lie inside, point lookups outside are refused.
    CITYAPP_BBOX = os.environ.get("CITYAPP_BBOX", "9.38,51.24,9.54,51.38")
    CITYAPP_NEWS_CATEGORIES = tuple(
        os.environ.get(
            "CITYAPP_NEWS_CATEGORIES",
            "rathaus,verkehr,bauen,umwelt,kultur,sport,bildung,soziales,wirtschaft,sonstiges",
        ).split(",")
    )
    # Media: content-addressed files on a storage backend (local directory by default).
    CITYAPP_MEDIA_DIR = os.environ.get("CITYAPP_MEDIA_DIR", str(INSTANCE_DIR / "media"))
    # How often the content job flips statuses at publish/expiry boundaries.
    CITYAPP_CONTENT_JOB_INTERVAL_S = _env_int("CITYAPP_CONTENT_JOB_INTERVAL_S", 60)
    # Media files without a row (an upload whose transaction failed) are deleted by a sweep
    # every CITYAPP_MEDIA_ORPHAN_SWEEP_S once older than CITYAPP_MEDIA_ORPHAN_MIN_AGE_S.
    CITYAPP_MEDIA_ORPHAN_SWEEP_S = _env_int("CITYAPP_MEDIA_ORPHAN_SWEEP_S", 6 * 3600)
    CITYAPP_MEDIA_ORPHAN_MIN_AGE_S = _env_int("CITYAPP_MEDIA_ORPHAN_MIN_AGE_S", 3600)
    # Tombstones for delta sync are kept this long; older updated_since values get 410.
    CITYAPP_TOMBSTONE_RETENTION_DAYS = _env_int("CITYAPP_TOMBSTONE_RETENTION_DAYS", 180)
    # CAP <sender>: an address that identifies the municipality as the originator.
    CITYAPP_CAP_SENDER = os.environ.get("CITYAPP_CAP_SENDER", "warnung@musterstadt.example")

    # Feedback (citizen reports). Rate limits on submission: per credential (an installation
    # token) or per IP, plus one per IP across all credentials.
    CITYAPP_REPORT_RATE_LIMIT = os.environ.get("CITYAPP_REPORT_RATE_LIMIT", "10 per hour")
    CITYAPP_REPORT_IP_RATE_LIMIT = os.environ.get("CITYAPP_REPORT_IP_RATE_LIMIT", "30 per hour")
    CITYAPP_REPORT_MAX_PHOTOS = _env_int("CITYAPP_REPORT_MAX_PHOTOS", 5)
    # Flags from this many installations hide a public report until a moderator reviews it.
    CITYAPP_REPORT_FLAG_THRESHOLD = _env_int("CITYAPP_REPORT_FLAG_THRESHOLD", 3)
    CITYAPP_REPORT_DUPLICATE_RADIUS_M = _env_int("CITYAPP_REPORT_DUPLICATE_RADIUS_M", 50)
    CITYAPP_REPORT_DUPLICATE_DAYS = _env_int("CITYAPP_REPORT_DUPLICATE_DAYS", 30)
    CITYAPP_REPORT_REOPEN_DAYS = _env_int("CITYAPP_REPORT_REOPEN_DAYS", 30)
    # Retention defaults (days); categories may override each.
    CITYAPP_REPORT_CONTACT_RETENTION_DAYS = _env_int("CITYAPP_REPORT_CONTACT_RETENTION_DAYS", 90)
    CITYAPP_REPORT_REJECTED_PHOTO_RETENTION_DAYS = _env_int(
        "CITYAPP_REPORT_REJECTED_PHOTO_RETENTION_DAYS", 30
    )
    CITYAPP_REPORT_ANONYMISE_AFTER_DAYS = _env_int("CITYAPP_REPORT_ANONYMISE_AFTER_DAYS", 730)
    CITYAPP_REPORT_RETENTION_HOUR = _env_int("CITYAPP_REPORT_RETENTION_HOUR", 4)
    # Where the tracking link in resident mails points ({token} is replaced).
    CITYAPP_REPORT_TRACKING_URL = os.environ.get(
        "CITYAPP_REPORT_TRACKING_URL",
        os.environ.get("CITYAPP_BASE_URL", "http://127.0.0.1:8000")
        + "/api/v1/reports/track/{token}",
    )
    # Open311: the jurisdiction we answer for, and the contact in discovery.
    CITYAPP_OPEN311_JURISDICTION = os.environ.get(
        "CITYAPP_OPEN311_JURISDICTION", "musterstadt.example"
    )
    CITYAPP_OPEN311_CONTACT = os.environ.get(
        "CITYAPP_OPEN311_CONTACT", "Stadtverwaltung Musterstadt, maengel@musterstadt.example"
    )

    # Mail: the SMTP server the outbox (cityapp.mail) sends through.
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "127.0.0.1")
    MAIL_PORT = _env_int("MAIL_PORT", 25)
    MAIL_USE_TLS = _env_bool("MAIL_USE_TLS", False)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME") or None
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD") or None
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "cityapp@localhost")

    # Mail outbox (cityapp.mail): sent by the scheduler after commit, with retry and backoff.
    CITYAPP_MAIL_INTERVAL_S = _env_int("CITYAPP_MAIL_INTERVAL_S", 30)
    CITYAPP_MAIL_MAX_ATTEMPTS = _env_int("CITYAPP_MAIL_MAX_ATTEMPTS", 8)
    CITYAPP_MAIL_BACKOFF_BASE_S = _env_int("CITYAPP_MAIL_BACKOFF_BASE_S", 60)
    CITYAPP_MAIL_BACKOFF_MAX_S = _env_int("CITYAPP_MAIL_BACKOFF_MAX_S", 3600)
    CITYAPP_MAIL_TIMEOUT_S = _env_int("CITYAPP_MAIL_TIMEOUT_S", 20)
    # A claimed message whose send never finished (crash) is failed, never resent, after this.
    CITYAPP_MAIL_STUCK_AFTER_S = _env_int("CITYAPP_MAIL_STUCK_AFTER_S", 900)
    # Sent and finally-failed outbox rows (addresses, bodies with tracking links) are deleted
    # by the mail.retention job this many days after their last attempt.
    CITYAPP_MAIL_RETENTION_DAYS = _env_int("CITYAPP_MAIL_RETENTION_DAYS", 30)

    # Sessions: the cookie is only for staff in a browser.
    SESSION_COOKIE_NAME = "cityapp_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _env_bool("CITYAPP_SECURE_COOKIES", False)
    PERMANENT_SESSION_LIFETIME = _env_int("CITYAPP_SESSION_LIFETIME_S", 8 * 3600)
    REMEMBER_COOKIE_DURATION = 0

    # CSRF: cityapp.auth.permissions checks it, for cookie-authenticated state changes only.
    WTF_CSRF_CHECK_DEFAULT = False
    WTF_CSRF_TIME_LIMIT = None
    WTF_CSRF_HEADERS = ["X-CSRF-Token", "X-CSRFToken"]

    # Rate limits (Flask-Limiter notation). Storage is Redis when REDIS_URL is set.
    RATELIMIT_ENABLED = True
    RATELIMIT_STRATEGY = "moving-window"
    # Flask-Limiter's own headers put Retry-After on every response (a 200 too), which confused
    # clients: cityapp.extensions.rate_limit_headers sends the IETF RateLimit/RateLimit-Policy
    # headers instead and cityapp.errors sets Retry-After on every 429.
    RATELIMIT_HEADERS_ENABLED = False
    RATELIMIT_KEY_PREFIX = "cityapp"
    CITYAPP_LOGIN_RATE_LIMIT = os.environ.get("CITYAPP_LOGIN_RATE_LIMIT", "10 per minute")
    CITYAPP_INSTALLATION_RATE_LIMIT = os.environ.get(
        "CITYAPP_INSTALLATION_RATE_LIMIT", "20 per hour"
    )
    # Per-account slow-down after failed logins (independent of the client IP).
    CITYAPP_LOGIN_FAILURES_BEFORE_LOCK = _env_int("CITYAPP_LOGIN_FAILURES_BEFORE_LOCK", 5)
    CITYAPP_LOGIN_LOCK_BASE_S = _env_int("CITYAPP_LOGIN_LOCK_BASE_S", 60)
    CITYAPP_LOGIN_LOCK_MAX_S = _env_int("CITYAPP_LOGIN_LOCK_MAX_S", 15 * 60)

    # Reverse proxies in front of cityapp (0 = not behind a proxy).
    CITYAPP_PROXY_FIX_X_FOR = _env_int("CITYAPP_PROXY_FIX_X_FOR", 0)
    CITYAPP_PROXY_FIX_X_PROTO = _env_int("CITYAPP_PROXY_FIX_X_PROTO", 0)
    CITYAPP_PROXY_FIX_X_HOST = _env_int("CITYAPP_PROXY_FIX_X_HOST", 0)

    # API tokens
    CITYAPP_TOKEN_MAX_DAYS = _env_int("CITYAPP_TOKEN_MAX_DAYS", 365)
    CITYAPP_TOKEN_TOUCH_INTERVAL_S = 60

    # Scheduler
    CITYAPP_HOUSEKEEPING_INTERVAL_S = _env_int("CITYAPP_HOUSEKEEPING_INTERVAL_S", 3600)
    CITYAPP_JOB_RUN_RETENTION_DAYS = _env_int("CITYAPP_JOB_RUN_RETENTION_DAYS", 30)
    # The audit log is append-only for the app; only housekeeping removes entries this old.
    CITYAPP_AUDIT_RETENTION_DAYS = _env_int("CITYAPP_AUDIT_RETENTION_DAYS", 730)

    # Surveys. The ballot key turns installation ids into participant keys (HMAC); it defaults
    # to a derivation of SECRET_KEY. Changing either while a survey is open breaks the
    # one-ballot rule for that survey, so set CITYAPP_BALLOT_KEY once and keep it.
    CITYAPP_BALLOT_KEY = os.environ.get("CITYAPP_BALLOT_KEY") or None
    CITYAPP_BALLOT_RATE_LIMIT = os.environ.get("CITYAPP_BALLOT_RATE_LIMIT", "30 per hour")
    CITYAPP_SURVEY_DISTRICT_K = _env_int("CITYAPP_SURVEY_DISTRICT_K", 5)
    CITYAPP_STELE_VOTE_COOLDOWN_S = _env_int("CITYAPP_STELE_VOTE_COOLDOWN_S", 20)
    CITYAPP_SURVEY_STATUS_INTERVAL_S = _env_int("CITYAPP_SURVEY_STATUS_INTERVAL_S", 60)

    # Steles (device core, see docs/kiosks.md). Pairing codes live 10 minutes; rate limits per
    # client address for unpaired devices, per staff credential for claims.
    CITYAPP_KIOSK_PAIRING_TTL_S = _env_int("CITYAPP_KIOSK_PAIRING_TTL_S", 600)
    CITYAPP_KIOSK_PAIRING_POLL_S = _env_int("CITYAPP_KIOSK_PAIRING_POLL_S", 5)
    CITYAPP_KIOSK_PAIRING_RATE_LIMIT = os.environ.get(
        "CITYAPP_KIOSK_PAIRING_RATE_LIMIT", "5 per minute; 30 per hour"
    )
    CITYAPP_KIOSK_PAIRING_POLL_RATE_LIMIT = os.environ.get(
        "CITYAPP_KIOSK_PAIRING_POLL_RATE_LIMIT", "60 per minute"
    )
    CITYAPP_KIOSK_CLAIM_RATE_LIMIT = os.environ.get("CITYAPP_KIOSK_CLAIM_RATE_LIMIT", "20 per hour")
    # Poll intervals handed to the player (each jittered by ±jitter_pct percent).
    CITYAPP_KIOSK_MANIFEST_POLL_S = _env_int("CITYAPP_KIOSK_MANIFEST_POLL_S", 60)
    CITYAPP_KIOSK_HEARTBEAT_S = _env_int("CITYAPP_KIOSK_HEARTBEAT_S", 30)
    CITYAPP_KIOSK_JITTER_PCT = _env_int("CITYAPP_KIOSK_JITTER_PCT", 20)
    # Manifest look-ahead (valid_until) and the cache's safety net: rebuilt at least this often.
    CITYAPP_KIOSK_LOOKAHEAD_H = _env_int("CITYAPP_KIOSK_LOOKAHEAD_H", 48)
    CITYAPP_KIOSK_MANIFEST_MAX_AGE_S = _env_int("CITYAPP_KIOSK_MANIFEST_MAX_AGE_S", 900)
    CITYAPP_KIOSK_MAX_ITEMS = _env_int("CITYAPP_KIOSK_MAX_ITEMS", 40)
    # Display seconds per item kind; a device's settings.durations override them.
    CITYAPP_KIOSK_DURATIONS_S: dict = {"announcement": 15, "news": 20, "poll": 25}
    # Announcement level -> (alert level, display mode); settings.alert_modes override modes.
    CITYAPP_KIOSK_ALERT_LEVELS: dict = {
        "emergency": ("critical", "takeover"),
        "warning": ("high", "banner"),
    }
    CITYAPP_KIOSK_HEARTBEAT_MAX_BYTES = _env_int("CITYAPP_KIOSK_HEARTBEAT_MAX_BYTES", 16 * 1024)
    # Liveness writes: a heartbeat within this many seconds of the last write only updates
    # the row when something besides the time changed.
    CITYAPP_KIOSK_LIVENESS_WRITE_S = _env_int("CITYAPP_KIOSK_LIVENESS_WRITE_S", 10)
    CITYAPP_KIOSK_COMMAND_TTL_S = _env_int("CITYAPP_KIOSK_COMMAND_TTL_S", 3600)
    # Fleet health (docs/kiosks.md "Fleet health"): stale after 2 heartbeat intervals, offline
    # after 3 and at least OFFLINE_MIN_S; degraded when on an outdated manifest this long;
    # an incident (with admin mail) after this long offline inside operating hours.
    CITYAPP_KIOSK_HEALTH_SWEEP_S = _env_int("CITYAPP_KIOSK_HEALTH_SWEEP_S", 30)
    CITYAPP_KIOSK_OFFLINE_MIN_S = _env_int("CITYAPP_KIOSK_OFFLINE_MIN_S", 90)
    CITYAPP_KIOSK_DEGRADED_AFTER_S = _env_int("CITYAPP_KIOSK_DEGRADED_AFTER_S", 300)
    CITYAPP_KIOSK_INCIDENT_AFTER_S = _env_int("CITYAPP_KIOSK_INCIDENT_AFTER_S", 300)
    # Availability per device per day: refreshed this often (today so far and yesterday).
    CITYAPP_KIOSK_AVAILABILITY_INTERVAL_S = _env_int("CITYAPP_KIOSK_AVAILABILITY_INTERVAL_S", 3600)
    CITYAPP_KIOSK_HEALTH_EVENT_RETENTION_DAYS = _env_int(
        "CITYAPP_KIOSK_HEALTH_EVENT_RETENTION_DAYS", 400
    )

    # Logging
    CITYAPP_LOG_JSON = _env_bool("CITYAPP_LOG_JSON", False)
    CITYAPP_LOG_LEVEL = os.environ.get("CITYAPP_LOG_LEVEL", "INFO")

    # OpenAPI (flask-smorest)
    API_TITLE = "cityapp API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api"
    OPENAPI_JSON_PATH = "openapi.json"
    OPENAPI_SWAGGER_UI_PATH = "docs"
    OPENAPI_SWAGGER_UI_URL = "/api/docs/static/"
    API_SPEC_OPTIONS: dict = {}  # filled from cityapp.openapi in create_app
    ETAG_DISABLED = True  # conditional requests are handled by cityapp.http

    SECRET_KEY: str | None = None

    @classmethod
    def init(cls) -> None:
        """Resolve settings that need work (files, secrets) when the class is chosen."""


class DevelopmentConfig(Config):
    ENV_NAME = "development"

    @classmethod
    def init(cls) -> None:
        cls.SECRET_KEY = os.environ.get("SECRET_KEY") or _development_secret_key()


class TestingConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "testing-secret-key-not-for-production"
    RATELIMIT_KEY_PREFIX = "cityapp-test"
    # Tests exercise the real argon2 code, with cheaper parameters.
    CITYAPP_ARGON2_TIME_COST = 1
    CITYAPP_ARGON2_MEMORY_COST = 8 * 1024


class ProductionConfig(Config):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = _env_bool("CITYAPP_SECURE_COOKIES", True)
    CITYAPP_LOG_JSON = _env_bool("CITYAPP_LOG_JSON", True)

    @classmethod
    def init(cls) -> None:
        key = os.environ.get("SECRET_KEY")
        if not key or len(key) < 32:
            raise RuntimeError(
                "SECRET_KEY must be set (at least 32 characters) in production; "
                'generate one with: python -c "import secrets; print(secrets.token_urlsafe(48))"'
            )
        cls.SECRET_KEY = key


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def get_config(name: str | None = None) -> type[Config]:
    """Pick the config class from the argument or CITYAPP_ENV (default: development)."""
    name = name or os.environ.get("CITYAPP_ENV", "development")
    try:
        config = CONFIGS[name]
    except KeyError:
        raise RuntimeError(
            f"Unknown CITYAPP_ENV {name!r}; choose one of {sorted(CONFIGS)}"
        ) from None
    config.init()
    return config
