"""Typed configuration loaded once at start-up from ``config.yaml``.

Secrets are written in the YAML as ``${ENV_NAME}`` and expanded from the environment, so the file
itself never holds one (opsdroid's habit). Every problem is reported in Chinese and English and the
process exits non-zero (see ``bot.cli``).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

_ENV_REF = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)\}")


class ConfigError(Exception):
    """The configuration cannot be used; ``str(self)`` is a readable bilingual message."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ServiceConfig(_Strict):
    name: str = "沙县区零工市场"
    """Shown in page titles and greetings."""
    bot_name: str = "零工小助手"
    """The bot's display name; ``@`` + this name mentions the bot in a group."""
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    timezone: str = "Asia/Shanghai"
    """Time zone in which people read and write times; storage is always UTC."""
    hotline: str = "0598-5822345"
    """Service hotline shown wherever a user may need help (第八条)."""

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class DatabaseConfig(_Strict):
    url: str = "sqlite+aiosqlite:///var/linggong.db"
    """SQLAlchemy async URL; ``sqlite+aiosqlite`` (embedded) or ``postgresql+asyncpg``."""

    @field_validator("url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value


class DialogConfig(_Strict):
    expire_after_minutes: int = Field(30, ge=1, le=24 * 60)
    """An unfinished conversation times out after this many idle minutes."""
    max_text_chars: int = Field(2000, ge=50, le=100_000)
    """Longer messages get a polite refusal and change nothing."""


class OutboxConfig(_Strict):
    poll_seconds: float = Field(1.0, gt=0, le=60)
    max_attempts: int = Field(8, ge=1, le=100)
    """After this many failed attempts a row is dead-lettered and operators are alerted."""
    backoff_base_seconds: float = Field(2.0, gt=0)
    backoff_max_seconds: float = Field(600.0, gt=0)
    lease_seconds: int = Field(60, ge=5)
    """A row claimed by a sender that died is retried after this long."""


class RoomConfig(_Strict):
    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    name: str = Field(min_length=1, max_length=40)


class WebchatConfig(_Strict):
    rooms: tuple[RoomConfig, ...] = (RoomConfig(id="room-chengqu", name="沙县城区招工群"),)
    """Simulated group rooms of the built-in web chat."""


class AppConfig(_Strict):
    service: ServiceConfig = ServiceConfig()
    database: DatabaseConfig = DatabaseConfig()
    dialogs: DialogConfig = DialogConfig()
    outbox: OutboxConfig = OutboxConfig()
    webchat: WebchatConfig = WebchatConfig()


def _expand_env(node: Any, env: dict[str, str], path: str = "") -> Any:
    if isinstance(node, dict):
        return {k: _expand_env(v, env, f"{path}.{k}" if path else str(k)) for k, v in node.items()}
    if isinstance(node, list):
        return [_expand_env(v, env, f"{path}[{i}]") for i, v in enumerate(node)]
    if isinstance(node, str):
        missing = [name for name in _ENV_REF.findall(node) if name not in env]
        if missing:
            raise ConfigError(
                f"配置项 {path} 需要环境变量 {', '.join(missing)}，但它没有设置。\n"
                f"Config key {path} needs environment variable(s) {', '.join(missing)}, not set."
            )
        return _ENV_REF.sub(lambda m: env[m.group(1)], node)
    return node


def load_config(path: str | Path | None = None, env: dict[str, str] | None = None) -> AppConfig:
    """Read, expand and validate the configuration file.

    ``DATABASE_URL`` in the environment overrides ``database.url``.
    """
    env = dict(os.environ if env is None else env)
    raw: dict[str, Any] = {}
    if path is not None:
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(
                f"读不到配置文件 {p}：{exc.strerror}\nCannot read config file {p}: {exc.strerror}"
            ) from exc
        try:
            loaded = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ConfigError(f"配置文件 {p} 不是有效的 YAML。\nConfig file {p} is not valid YAML: {exc}") from exc
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise ConfigError(f"配置文件 {p} 顶层必须是键值表。\nConfig file {p} must be a mapping.")
        raw = _expand_env(loaded, env)
    if env.get("DATABASE_URL"):
        raw.setdefault("database", {})
        raw["database"] = {**raw["database"], "url": env["DATABASE_URL"]}
    try:
        return AppConfig.model_validate(raw)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            where = ".".join(str(x) for x in err["loc"]) or "(top)"
            lines.append(f"  - {where}: {err['msg']}")
        raise ConfigError(
            "配置有误，服务没有启动：\nThe configuration is invalid; the service did not start:\n"
            + "\n".join(lines)
        ) from exc
