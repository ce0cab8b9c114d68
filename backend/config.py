"""Settings read from the environment.

Every setting the code reads is declared in ``SETTINGS`` so that the README table, the compose-file test
and production validation all come from one list.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INSTANCE_DIR = PROJECT_ROOT / "instance"
REAL_WECHAT_API_BASE = "https://api.weixin.qq.com/"
DEV_SECRET_PREFIX = "dev-"


class ConfigError(RuntimeError):
    """Raised when the environment cannot make a safe configuration (production without a secret)."""


@dataclass(frozen=True)
class Setting:
    """One environment variable: its name, default, whether production needs it and what it is for."""

    name: str
    default: str | None
    description: str
    secret: bool = False
    required_in_production: bool = False


SETTINGS: tuple[Setting, ...] = (
    Setting("APP_ENV", "development", "development | testing | production"),
    Setting("DATABASE_URL", None, "SQLAlchemy URL; default SQLite file instance/kitchen.db",
            required_in_production=True),
    Setting("SECRET_KEY", None, "signs tokens and derives the field-encryption key", secret=True,
            required_in_production=True),
    Setting("FIELD_ENCRYPTION_KEY", None, "Fernet key for camera credentials (default: derived from SECRET_KEY)",
            secret=True),
    Setting("WECHAT_APPID", None, "mini-program AppID", required_in_production=True),
    Setting("WECHAT_SECRET", None, "mini-program AppSecret", secret=True, required_in_production=True),
    Setting("WECHAT_API_BASE", REAL_WECHAT_API_BASE, "WeChat API base URL (tests point it at the fake)"),
    Setting("WECHAT_TIMEOUT_SECONDS", "5", "timeout of every WeChat HTTP call"),
    Setting("TENCENT_SMS_SECRET_ID", None, "Tencent Cloud API SecretId for SMS (SMS is off without it)", secret=True),
    Setting("TENCENT_SMS_SECRET_KEY", None, "Tencent Cloud API SecretKey for SMS", secret=True),
    Setting("TENCENT_SMS_SDK_APP_ID", None, "SMS application id (SmsSdkAppId)"),
    Setting("TENCENT_SMS_SIGN_NAME", None, "approved SMS signature (签名)"),
    Setting("TENCENT_SMS_TEMPLATE_ID", None, "approved SMS template: {1}{2}（{3}级风险），请于{4}前处理"),
    Setting("TENCENT_SMS_REGION", "ap-guangzhou", "Tencent Cloud region of the SMS API"),
    Setting("TENCENT_SMS_ENDPOINT", None, "SMS API host[:port] (default sms.tencentcloudapi.com; tests: the fake)"),
    Setting("TENCENT_SMS_SCHEME", "https", "https, or http for the fake"),
    Setting("WECOM_API_BASE", "https://qyapi.weixin.qq.com/", "WeCom API base URL of group robots (tests: the fake)"),
    Setting("CHANNEL_TIMEOUT_SECONDS", "10", "timeout of every SMS and WeCom robot call"),
    Setting("WECHAT_PUSH_TOKEN", None, "message-push Token configured in the WeChat console", secret=True),
    Setting("WECHAT_PUSH_AES_KEY", None, "message-push EncodingAESKey (encrypted mode)", secret=True),
    Setting("WECHAT_SUBSCRIBE_TEMPLATES", None, "subscribe-message template ids: violation=ID,progress=ID,"
            "escalation=ID,supervision=ID,binding=ID,unreported=ID,warning=ID,seal=ID "
            "(unset in production: notices reach the in-app inbox only)"),
    Setting("WECHAT_MINIPROGRAM_STATE", None, "version a subscribe message opens: developer | trial | formal "
            "(default formal in production, developer elsewhere)"),
    Setting("NOTICE_LOG_RETENTION_DAYS", "180", "days WeChat push events and notice send attempts are kept "
            "(six months of logs, as the Cybersecurity Law asks); notices and the inbox are never deleted"),
    Setting("REDIS_URL", None, "Redis for shared access_token, rate limits and Celery (optional)"),
    Setting("CELERY_BROKER_URL", None, "when set, jobs run on Celery workers instead of in-process"),
    Setting("CELERY_VISIBILITY_TIMEOUT", "300", "seconds before Redis hands a dead worker's task to another"),
    Setting("WORKER_THREADS", None, "size of the scheduler's in-process job pool; default: CPU count"),
    Setting("MODEL_CARDS_DIR", None, "folder of extra ONNX model cards (*.json + *.onnx) for the detectors"),
    Setting("CAPTURE_TIMEOUT_SECONDS", "5", "timeout of every camera read (connect and receive)"),
    Setting("FALSE_ALARM_LIMIT", "0.5", "share of false positives among a camera's reviewed alarms of a kind at "
            "which its confidence threshold rises one step (backend/monitoring/false_alarms.py)"),
    Setting("FALSE_ALARM_MIN_VERDICTS", "20", "verdicts of a camera's kind, since its last threshold change, "
            "before the false-positive share is judged"),
    Setting("FALSE_ALARM_STEP", "0.05", "how much a kind's confidence threshold rises at a time"),
    Setting("FALSE_ALARM_MAX_CONFIDENCE", "0.9", "the highest confidence threshold false alarms raise a kind to"),
    Setting("FALSE_ALARM_WINDOW_DAYS", "30", "only the alarms raised in these last days are judged for a raise"),
    Setting("WORKER_FAULT_DIR", None, "tests only: samples pause before commit while this folder has 'pause'"),
    Setting("STORAGE_BACKEND", "local", "local | s3"),
    Setting("STORAGE_LOCAL_PATH", None, "folder of the local object store; default instance/storage"),
    Setting("S3_ENDPOINT_URL", None, "S3 endpoint (MinIO in compose); empty means AWS"),
    Setting("S3_BUCKET", None, "bucket for uploads and evidence"),
    Setting("S3_ACCESS_KEY_ID", None, "S3 access key", secret=True),
    Setting("S3_SECRET_ACCESS_KEY", None, "S3 secret key", secret=True),
    Setting("S3_REGION", "us-east-1", "S3 region"),
    Setting("MAX_UPLOAD_MB", "10", "largest accepted upload"),
    Setting("SESSION_TTL_HOURS", "168", "lifetime of a login session token"),
    Setting("AUTH_CACHE_SECONDS", "1", "how long an api process reuses a token's principal (every commit in the "
            "process clears it; other processes see a revocation within this time); 0 turns it off"),
    Setting("MEDIA_HOOK_SECRET", None, "shared secret the media server sends to the play-auth hooks",
            secret=True),
    Setting("MEDIA_HOOK_LISTEN", None, "host:port where every gunicorn worker of the api also answers the media "
            "server's hooks alone (backend/live/hook_listener.py; the media server's API_HOOK_BASE); empty: only "
            "on the api's own port"),
    Setting("MEDIA_HOOK_CONNECTIONS", "32", "connections each api worker's media hook listener serves at once"),
    Setting("MEDIA_RTMP_BASE", "rtmp://127.0.0.1:1935/live", "RTMP play base URL given to clients"),
    Setting("MEDIA_HLS_BASE", "http://127.0.0.1:8080/hls", "HLS play base URL given to clients"),
    Setting("MEDIA_SERVER_KIND", "nginx-rtmp", "nginx-rtmp | zlmediakit: shape of the play URLs (docs/live.md)"),
    Setting("MEDIA_RTMP_PUBLISH_BASE", None, "RTMP base the camera relays publish to (default MEDIA_RTMP_BASE)"),
    Setting("MEDIA_HOOK_TRUST_LOOPBACK", "false",
            "accept hook calls from 127.0.0.1/::1 without the secret (media server on the same host, no proxy)"),
    Setting("LIVE_TOKEN_TTL_SECONDS", "60", "how long a play URL may wait before its first use"),
    Setting("LIVE_SESSION_IDLE_SECONDS", "60", "a view session with no media-server sign of life this long is over"),
    Setting("LIVE_MAX_VIEWERS_PER_CAMERA", "50",
            "open view sessions of one camera at which parents are refused (staff and regulators never are)"),
    Setting("LIVE_MAX_VIEWERS_PER_SCHOOL", "200",
            "open view sessions of one school at which parents are refused (staff and regulators never are)"),
    Setting("LIVE_RECORD_DIR", None, "folder the media server records into (shared with the workers); "
            "default instance/recordings"),
    Setting("LIVE_RECORDING_RETENTION_DAYS", "15", "days recordings are kept before the purge job removes them"),
    Setting("LIVE_CLIP_RETENTION_DAYS", "7", "days the MP4 clips cut from recordings for download are kept before the "
            "purge job removes them"),
    Setting("LIVE_SNAPSHOT_TIMEOUT_SECONDS", "10", "longest wait for a snapshot frame from a camera"),
    Setting("RATELIMIT_LOGIN", "10 per minute", "login attempts per client address"),
    Setting("RATELIMIT_REDEEM", "20 per hour", "invite redemptions per user"),
    Setting("LOG_LEVEL", "INFO", "log level"),
)


def _env(name: str, environ: dict[str, str]) -> str | None:
    value = environ.get(name)
    return value if value not in (None, "") else None


def _default_sqlite_url(instance_dir: Path) -> str:
    return f"sqlite:///{instance_dir / 'kitchen.db'}"


def normalise_database_url(url: str) -> str:
    """Use the psycopg 3 driver for PostgreSQL URLs written the usual way."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _dev_secret(instance_dir: Path, name: str) -> str:
    """A development secret kept in instance/ so that tokens survive restarts of `make demo`."""
    instance_dir.mkdir(parents=True, exist_ok=True)
    path = instance_dir / f"{name.lower()}.dev"
    if path.exists():
        return path.read_text().strip()
    value = DEV_SECRET_PREFIX + secrets.token_urlsafe(32)
    path.write_text(value)
    return value


def load_config(overrides: dict[str, Any] | None = None, environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Build the Flask config from the environment, applying ``overrides`` last.

    Production refuses to start when a required setting is missing or still a development value.
    """
    env = dict(os.environ if environ is None else environ)
    overrides = dict(overrides or {})
    app_env = overrides.get("APP_ENV") or _env("APP_ENV", env) or "development"
    instance_dir = Path(overrides.get("INSTANCE_PATH") or env.get("INSTANCE_PATH") or DEFAULT_INSTANCE_DIR)

    values: dict[str, Any] = {s.name: _env(s.name, env) or s.default for s in SETTINGS}
    values.update({k: v for k, v in overrides.items() if k in values})
    values["APP_ENV"] = app_env
    if app_env == "production":
        _refuse_weak_production(values)
    else:
        _fill_development_defaults(values, instance_dir)
    config: dict[str, Any] = dict(values)
    config.update(_derived_settings(values, instance_dir))
    config.update(overrides)
    return config


def _refuse_weak_production(values: dict[str, Any]) -> None:
    """Raise :class:`ConfigError` when a setting production needs is missing or still a development value."""
    missing = [s.name for s in SETTINGS if s.required_in_production and not values.get(s.name)]
    weak = [s.name for s in SETTINGS if s.secret and str(values.get(s.name) or "").startswith(DEV_SECRET_PREFIX)]
    if missing or weak:
        problems = [f"{name} is not set" for name in missing] + [f"{name} is a development value" for name in weak]
        raise ConfigError("refusing to start in production: " + "; ".join(problems))
    if len(values["SECRET_KEY"]) < 32:
        raise ConfigError("refusing to start in production: SECRET_KEY must be at least 32 characters")


# Values a development or test run uses for settings left unset (a secret is generated and kept instead).
_DEVELOPMENT_DEFAULTS = {"WECHAT_APPID": "wx_dev_appid", "WECHAT_SECRET": "dev-wechat-secret",
                         "MEDIA_HOOK_SECRET": "dev-media-hook-secret"}


def _fill_development_defaults(values: dict[str, Any], instance_dir: Path) -> None:
    """Outside production, unset secrets and the database get working local values (in place)."""
    values["SECRET_KEY"] = values["SECRET_KEY"] or _dev_secret(instance_dir, "SECRET_KEY")
    for name, default in _DEVELOPMENT_DEFAULTS.items():
        values[name] = values[name] or default
    values["DATABASE_URL"] = values["DATABASE_URL"] or _default_sqlite_url(instance_dir)


def _derived_settings(values: dict[str, Any], instance_dir: Path) -> dict[str, Any]:
    """Flask, SQLAlchemy, limiter and OpenAPI settings that follow from the environment's values."""
    database_url = normalise_database_url(values["DATABASE_URL"])
    return {
        "INSTANCE_PATH": str(instance_dir),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": _engine_options(database_url),
        "TESTING": values["APP_ENV"] == "testing",
        "DEBUG": False,
        "MAX_CONTENT_LENGTH": int(values["MAX_UPLOAD_MB"]) * 1024 * 1024 + 64 * 1024,
        "STORAGE_LOCAL_PATH": values["STORAGE_LOCAL_PATH"] or str(instance_dir / "storage"),
        "RATELIMIT_STORAGE_URI": values["REDIS_URL"] or "memory://",
        "RATELIMIT_HEADERS_ENABLED": True,
        "JSON_AS_ASCII": False,
        "SPEC_PATH": "/openapi.json",
        "DOCS_PATH": "/docs",
        "INFO": {"description": "互联网+明厨亮灶 学校食堂透明厨房平台 API"},
        "SECURITY_SCHEMES": {"BearerAuth": {"type": "http", "scheme": "bearer"}},
    }


def _engine_options(database_url: str) -> dict[str, Any]:
    if database_url.startswith("sqlite"):
        # The api, scheduler and workers share one SQLite file: wait for locks instead of failing at once.
        return {"connect_args": {"timeout": 30}}
    # Server-side prepared statements from the first execution: the authentication query joins five
    # tables and PostgreSQL would otherwise spend longer planning it than running it on every request.
    return {"pool_pre_ping": True, "pool_size": 8, "max_overflow": 8,
            "connect_args": {"prepare_threshold": 1}}
