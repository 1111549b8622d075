"""Settings: one frozen object, built once at the entry point and passed down.

Values come from environment variables named ``CC_*`` and, below them, from an optional
``KEY=VALUE`` file named by ``CC_SETTINGS_FILE``. Nothing else in the package reads
``os.environ``. A bad value stops start-up with a message that names the variable.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from contact_center.errors import SettingsError

T = TypeVar("T")

PROJECT_ROOT = Path(__file__).resolve().parent.parent
"""The source checkout: asterisk-config/, dialplans/ and agent_ui/ live here."""
DEFAULT_STATE_DIR = Path("var")


class Secret:
    """A string that never shows itself in a repr or a log line."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclasses.dataclass(frozen=True, slots=True)
class Settings:
    node: str = "node1"
    state_dir: Path = DEFAULT_STATE_DIR
    database_url: str = ""
    redis_url: str | None = None
    ami_host: str = "127.0.0.1"
    ami_port: int = 5038
    ami_user: str = "contact-center"
    ami_secret: Secret | None = None
    ami_action_timeout: float = 5.0
    agi_host: str = "127.0.0.1"
    agi_port: int = 4573
    agi_route_timeout: float = 1.5
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    default_region: str = "PL"
    default_queue: str = "main"
    timezone: str = "Europe/Warsaw"
    log_level: str = "INFO"
    sandbox_root: Path = Path("/var/cache/contact-center/asterisk-sid")
    debian_mirror: str | None = None
    cookie_secure: bool = False
    session_idle_minutes: int = 720
    bridge_http_host: str = "127.0.0.1"
    bridge_http_port: int = 8081
    metrics_token: Secret | None = None
    watchdog_seconds: float = 15.0

    @property
    def sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def require_ami_secret(self) -> Secret:
        if self.ami_secret is None:
            raise SettingsError(
                "CC_AMI_SECRET is not set (or CC_AMI_SECRET_FILE): the bridge needs the AMI "
                "secret of the user in manager.conf"
            )
        return self.ami_secret


def _text(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value.strip()


def _port(value: str) -> int:
    port = int(value)
    if not 0 < port < 65536:
        raise ValueError("must be a TCP port from 1 to 65535")
    return port


def _positive(value: str) -> float:
    number = float(value)
    if not number > 0:
        raise ValueError("must be a positive number of seconds")
    return number


def _host(value: str) -> str:
    value = value.strip()
    try:
        ipaddress.ip_address(value)
    except ValueError:
        if not value or any(c.isspace() or c in "/:@" for c in value):
            raise ValueError("must be an IP address or a host name") from None
    return value


def _node(value: str) -> str:
    value = value.strip()
    if not value or not all(c.isalnum() or c in "-_" for c in value) or len(value) > 32:
        raise ValueError("must be 1 to 32 letters, digits, '-' or '_'")
    return value


def _database_url(value: str) -> str:
    value = value.strip()
    if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
        raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
    return value


def _redis_url(value: str) -> str | None:
    value = value.strip()
    if not value:
        return None
    if not value.startswith(("redis://", "rediss://", "unix://")):
        raise ValueError("must start with redis://, rediss:// or unix://")
    return value


def _region(value: str) -> str:
    value = value.strip().upper()
    if len(value) != 2 or not value.isalpha():
        raise ValueError("must be a two-letter ISO 3166 region code such as PL")
    return value


def _log_level(value: str) -> str:
    value = value.strip().upper()
    if value not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR")
    return value


def _queue(value: str) -> str:
    value = value.strip()
    if not value or not all(c.isalnum() or c in "-_" for c in value):
        raise ValueError("must be a queue name of letters, digits, '-' or '_'")
    return value


def _bool(value: str) -> bool:
    value = value.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError("must be true or false")


def _minutes(value: str) -> int:
    minutes = int(value)
    if not minutes > 0:
        raise ValueError("must be a positive whole number of minutes")
    return minutes


def _watchdog(value: str) -> float:
    seconds = float(value)
    if seconds != 0 and not seconds >= 2:
        raise ValueError("must be 0 (off) or at least 2 seconds")
    return seconds


def _timezone(value: str) -> str:
    value = value.strip()
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("must be a time zone name such as Europe/Warsaw") from None
    return value


def read_settings_file(path: Path) -> dict[str, str]:
    """Read ``KEY=VALUE`` lines; blank lines and ``#`` comments are skipped."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise SettingsError(f"CC_SETTINGS_FILE: cannot read {path}: {err.strerror}") from err
    values: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise SettingsError(f"CC_SETTINGS_FILE: {path}:{number} is not KEY=VALUE")
        values[key.strip()] = value.strip().strip("'\"")
    return values


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Build the settings from ``environ`` (default: the process environment)."""
    env: dict[str, str] = {}
    source = dict(os.environ if environ is None else environ)
    if source.get("CC_SETTINGS_FILE"):
        env.update(read_settings_file(Path(source["CC_SETTINGS_FILE"])))
    env.update({k: v for k, v in source.items() if k.startswith("CC_")})

    values: dict[str, Any] = {}

    def take(name: str, field: str, parse: Callable[[str], T]) -> None:
        if name in env:
            try:
                values[field] = parse(env[name])
            except ValueError as err:
                raise SettingsError(f"{name}={env[name]!r}: {err}") from err

    take("CC_NODE", "node", _node)
    take("CC_STATE_DIR", "state_dir", lambda v: Path(_text(v)))
    take("CC_DATABASE_URL", "database_url", _database_url)
    take("CC_REDIS_URL", "redis_url", _redis_url)
    take("CC_AMI_HOST", "ami_host", _host)
    take("CC_AMI_PORT", "ami_port", _port)
    take("CC_AMI_USER", "ami_user", _text)
    take("CC_AMI_SECRET", "ami_secret", lambda v: Secret(_text(v)))
    take("CC_AMI_ACTION_TIMEOUT", "ami_action_timeout", _positive)
    take("CC_AGI_HOST", "agi_host", _host)
    take("CC_AGI_PORT", "agi_port", _port)
    take("CC_AGI_ROUTE_TIMEOUT", "agi_route_timeout", _positive)
    take("CC_HTTP_HOST", "http_host", _host)
    take("CC_HTTP_PORT", "http_port", _port)
    take("CC_DEFAULT_REGION", "default_region", _region)
    take("CC_DEFAULT_QUEUE", "default_queue", _queue)
    take("CC_TIMEZONE", "timezone", _timezone)
    take("CC_LOG_LEVEL", "log_level", _log_level)
    take("CC_SANDBOX_ROOT", "sandbox_root", lambda v: Path(_text(v)))
    take("CC_DEBIAN_MIRROR", "debian_mirror", _text)
    take("CC_COOKIE_SECURE", "cookie_secure", _bool)
    take("CC_SESSION_IDLE_MINUTES", "session_idle_minutes", _minutes)
    take("CC_BRIDGE_HTTP_HOST", "bridge_http_host", _host)
    take("CC_BRIDGE_HTTP_PORT", "bridge_http_port", _port)
    take("CC_METRICS_TOKEN", "metrics_token", lambda v: Secret(_text(v)))
    take("CC_WATCHDOG_SECONDS", "watchdog_seconds", _watchdog)

    if "ami_secret" not in values and env.get("CC_AMI_SECRET_FILE"):
        secret_path = Path(env["CC_AMI_SECRET_FILE"])
        try:
            values["ami_secret"] = Secret(_text(secret_path.read_text(encoding="utf-8")))
        except (OSError, ValueError) as err:
            raise SettingsError(f"CC_AMI_SECRET_FILE={secret_path}: {err}") from err

    values.update(overrides)
    state_dir = Path(values.get("state_dir", DEFAULT_STATE_DIR))
    if not values.get("database_url"):
        values["database_url"] = f"sqlite+aiosqlite:///{state_dir / 'contact_center.sqlite3'}"
    return Settings(**values)
