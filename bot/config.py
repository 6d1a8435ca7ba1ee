"""Typed configuration loaded once at start-up from ``config.yaml``.

Secrets are written in the YAML as ``${ENV_NAME}`` and expanded from the environment, so the file
itself never holds one (opsdroid's habit). Every problem is reported in Chinese and English and the
process exits non-zero (see ``bot.cli``).
"""

from __future__ import annotations

import ipaddress
import os
import re
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

_ENV_REF = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)\}")


class ConfigError(Exception):
    """The configuration cannot be used; ``str(self)`` is a readable bilingual message."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ServiceConfig(_Strict):
    """The service's names, where it listens, its time zone and hotline."""

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
    """Which database, and how SQLite runs."""

    url: str = "sqlite+aiosqlite:///var/linggong.db"
    """SQLAlchemy async URL; ``sqlite+aiosqlite`` (embedded) or ``postgresql+asyncpg``."""
    sqlite_inline: bool = True
    """SQLite only: run statements on the event loop instead of aiosqlite's thread (3× faster;
    see storage/sqlite/inline_sqlite.py)."""

    @field_validator("url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value


class DialogConfig(_Strict):
    """Limits of a conversation: its idle timeout and a message's length."""

    expire_after_minutes: int = Field(30, ge=1, le=24 * 60)
    """An unfinished conversation times out after this many idle minutes."""
    max_text_chars: int = Field(2000, ge=50, le=100_000)
    """Longer messages get a polite refusal and change nothing."""


class OutboxConfig(_Strict):
    """How the outbox sender polls, retries, backs off and leases rows."""

    poll_seconds: float = Field(1.0, gt=0, le=60)
    max_attempts: int = Field(8, ge=1, le=100)
    """After this many failed attempts a row is dead-lettered and operators are alerted."""
    backoff_base_seconds: float = Field(2.0, gt=0)
    backoff_max_seconds: float = Field(600.0, gt=0)
    lease_seconds: int = Field(60, ge=5)
    """A row claimed by a sender that died is retried after this long."""


class RoomConfig(_Strict):
    """One simulated group room of the web chat."""

    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    name: str = Field(min_length=1, max_length=40)


class WebchatConfig(_Strict):
    """The built-in web chat: rooms, demo / login / kiosk mode, sessions and rate limits."""

    rooms: tuple[RoomConfig, ...] = (RoomConfig(id="room-chengqu", name="沙县城区招工群"),)
    """Simulated group rooms of the built-in web chat."""
    demo: bool = False
    """Demo mode: anyone may pick or create a persona (local trials). Off (production): people log
    in by phone + SMS code or WeChat web authorisation. ``WEBCHAT_DEMO=0|1`` overrides."""
    kiosk: bool = False
    """Service-hall terminal: forgets the visitor after ``kiosk_idle_seconds`` or 结束
    (``WEBCHAT_KIOSK=0|1`` overrides)."""
    kiosk_idle_seconds: int = Field(120, ge=30, le=3600)
    kiosk_networks: tuple[str, ...] = ()
    """Client networks of the hall's terminals (``10.8.0.0/24``): only they get a 公众号 login QR
    code. Empty: any client (put the kiosk instance on the hall's own network)."""
    session_idle_minutes: int = Field(12 * 60, ge=5, le=30 * 24 * 60)
    """A person's web session ends after this long without a request …"""
    session_max_days: int = Field(7, ge=1, le=90)
    """… and in any case this long after login."""
    allowed_origins: tuple[str, ...] = ()
    """Other origins (``https://host``) whose pages may open the chat's WebSocket or post to it;
    the page's own origin and ``market.public_url``'s are always allowed."""
    trust_proxy: bool = False
    """Behind nginx: take the client address and scheme from X-Forwarded-For / -Proto."""
    messages_per_minute: int = Field(30, ge=1, le=600)
    """Messages one person may send per minute; more get a polite "慢一点"."""
    personas_per_hour: int = Field(20, ge=1, le=10000)
    """Demo personas one client address may create per hour."""

    @field_validator("kiosk_networks")
    @classmethod
    def _networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for net in value:
            try:
                ipaddress.ip_network(net, strict=False)
            except ValueError as exc:
                raise ValueError(f"kiosk network {net!r} is not an address or network") from exc
        return value

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for origin in value:
            if not re.fullmatch(r"https?://[A-Za-z0-9.-]+(:\d{1,5})?", origin):
                raise ValueError(f"allowed origin {origin!r} must look like https://host[:port]")
        return value


def _webchat_env(raw: dict[str, Any], env: dict[str, str]) -> None:
    """``WEBCHAT_DEMO`` and ``WEBCHAT_KIOSK`` (1/0) override the file."""
    for var, key in (("WEBCHAT_DEMO", "demo"), ("WEBCHAT_KIOSK", "kiosk")):
        flag = env.get(var, "").strip().lower()
        if not flag:
            continue
        if flag not in _TRUE | _FALSE:
            raise ConfigError(f"环境变量 {var} 只能是 1 或 0。\nEnvironment variable {var} must be 1 or 0.")
        section = dict(raw.get("webchat") or {})
        section[key] = flag in _TRUE
        raw["webchat"] = section


# --- WeChat channels (all off by default; secrets come from the environment) -----------------
_ID = r"^[A-Za-z0-9_-]*$"
_PATH = r"^/[A-Za-z0-9_/.-]*$"
_AES_KEY = r"^([A-Za-z0-9+/]{43})?$"
DEFAULT_MENU = {
    "FIND_JOBS": "找活",
    "REGISTER_WORKER": "登记",
    "REGISTER_EMPLOYER": "雇主登记",
    "POST_JOB": "招工",
    "MY_JOBS": "我的活",
    "MY_ORDERS": "我的招工",
    "PROFILE": "我的资料",
    "HELP": "帮助",
    "MENU": "菜单",
}
"""Menu-button EventKey → the command it stands for (the same words a person would type)."""
DEFAULT_SCENES = {"worker": "登记", "employer": "雇主登记"}
"""QR-code scene (``qrscene_worker``) → the command a subscriber starts with."""


class _CallbackConfig(_Strict):
    passive_reply_seconds: float = Field(3.0, ge=0, le=4.5)
    """Budget for answering inside WeChat's 5-second window; later answers go out by API."""
    max_body_bytes: int = Field(64 * 1024, ge=1024, le=1024 * 1024)
    max_clock_skew_seconds: int = Field(600, ge=0)
    """Signed requests older or newer than this are refused (0 = no freshness check)."""
    request_timeout_seconds: float = Field(10.0, gt=0, le=60)
    send_per_minute: int = Field(600, ge=1)
    """Client-side ceiling on outbound API sends for the whole channel."""
    pause_on_throttle_seconds: float = Field(60.0, gt=0)
    """After 45009/45011 (api freq out of limit) the whole channel waits this long."""
    menu: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_MENU))


class WechatOAConfig(_CallbackConfig):
    """公众号 / 服务号 callback and 客服消息 / 模板消息 sender."""

    enabled: bool = False
    path: str = Field("/wechat/oa", pattern=_PATH)
    token: str = Field("", pattern=_ID, max_length=32)
    """WECHAT_OA_TOKEN: the callback Token from the MP console."""
    aes_key: str = Field("", pattern=_AES_KEY)
    """WECHAT_OA_AES_KEY: EncodingAESKey (43 characters); empty = plaintext mode only. When set,
    only safe-mode messages (``encrypt_type=aes`` + ``msg_signature``) are accepted."""
    compat_mode: bool = False
    """WECHAT_OA_COMPAT_MODE=1: 兼容模式 — with the AES key set, still accept plaintext messages
    (while the MP console is switched over). Off: a plaintext message is refused (403), so a
    captured signature cannot downgrade a safe-mode account to unauthenticated bodies."""
    appid: str = Field("", pattern=_ID, max_length=32)
    secret: str = Field("", max_length=64)
    api_base: str = "https://api.weixin.qq.com"
    stable_token: bool = False
    """Use /cgi-bin/stable_token (safe when several processes share one appid)."""
    window_closed_retry_seconds: float = Field(6 * 3600.0, gt=0)
    """45015/45047 without a template: wait this long (or until the person writes again)."""
    template_id: str = ""
    """Template for pushes outside the 客服 window; empty = no template fallback."""
    template_fields: dict[str, str] = Field(default_factory=lambda: {"content": "{text}"})
    """Template field → value; ``{text}``, ``{title}`` (first line), ``{service}`` filled in."""
    template_url: str = ""
    template_for_keys: tuple[str, ...] = ("digest:", "push:", "offer:")
    """Outbox rows whose idempotency key starts so (after ``notify:``) are pushes: straight to the
    template when one is set, since the 客服 window is usually closed for them."""
    scenes: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_SCENES))

    @model_validator(mode="after")
    def _complete_when_enabled(self) -> WechatOAConfig:
        if self.enabled:
            if len(self.token) < 3:
                raise ValueError("wechat_oa is enabled but has no token (set WECHAT_OA_TOKEN)")
            if self.aes_key and not self.appid:
                raise ValueError("wechat_oa.aes_key needs wechat_oa.appid (WECHAT_OA_APPID)")
        return self


class WecomConfig(_CallbackConfig):
    """企业微信 self-built app: callback and app-message sender."""

    enabled: bool = False
    path: str = Field("/wechat/wecom", pattern=_PATH)
    corp_id: str = Field("", pattern=_ID, max_length=64)
    token: str = Field("", pattern=_ID, max_length=32)
    aes_key: str = Field("", pattern=_AES_KEY)
    secret: str = Field("", max_length=128)
    agent_id: int | None = None
    api_base: str = "https://qyapi.weixin.qq.com"
    per_user_per_minute: int = Field(30, ge=1, le=30)
    per_user_per_hour: int = Field(1000, ge=1, le=1000)
    """WeCom drops app messages beyond 30/min and 1000/h to one member (doc 90454)."""

    @model_validator(mode="after")
    def _complete_when_enabled(self) -> WecomConfig:
        if self.enabled and not (self.corp_id and self.token and self.aes_key):
            raise ValueError(
                "wecom is enabled but needs corp_id, token and aes_key "
                "(WECOM_CORP_ID, WECOM_TOKEN, WECOM_AES_KEY)"
            )
        return self


class WecomRobotConfig(_Strict):
    """企业微信 group-robot webhooks (send-only) for digests into 客户群."""

    enabled: bool = False
    api_base: str = "https://qyapi.weixin.qq.com"
    robots: dict[str, str] = Field(default_factory=dict)
    """Robot name (the outbox chat id) → webhook key. WECOM_ROBOT_KEYS="name=key,name2=key2"."""
    per_minute: int = Field(20, ge=1, le=20)
    window_seconds: float = Field(60.0, gt=0)
    pause_on_throttle_seconds: float = Field(600.0, gt=0)
    """A robot throttled by WeCom (45009 / 130101) stays quiet this long (~10 min reported)."""
    request_timeout_seconds: float = Field(10.0, gt=0, le=60)

    @model_validator(mode="after")
    def _complete_when_enabled(self) -> WecomRobotConfig:
        if self.enabled and not self.robots:
            raise ValueError("wecom_robot is enabled but no robot keys are set (WECOM_ROBOT_KEYS)")
        return self


class WechatyConfig(_Strict):
    """Personal-account groups through a Wechaty puppet-service gateway. Risks bans; off."""

    enabled: bool = False
    endpoint: str = ""
    """WECHATY_PUPPET_SERVICE_ENDPOINT, host:port of a gateway with TLS disabled."""
    token: str = ""
    """WECHATY_PUPPET_SERVICE_TOKEN."""
    connect_timeout_seconds: float = Field(10.0, gt=0)
    login_timeout_seconds: float = Field(60.0, gt=0)
    """No login within this long: clear error and a non-zero exit."""
    min_gap_seconds: float = Field(3.0, ge=0)
    max_gap_seconds: float = Field(8.0, ge=0)
    switch_min_gap_seconds: float = Field(15.0, ge=0)
    switch_max_gap_seconds: float = Field(35.0, ge=0)
    """Longer random gap when the next message goes to a different chat."""
    max_per_hour: int = Field(30, ge=1)
    max_message_age_seconds: float = Field(600.0, gt=0)
    """Older messages (replayed after a reconnect) are not answered."""
    reconnect_max_seconds: float = Field(300.0, ge=1)

    @model_validator(mode="after")
    def _complete_when_enabled(self) -> WechatyConfig:
        if self.min_gap_seconds > self.max_gap_seconds:
            raise ValueError("wechaty.min_gap_seconds exceeds max_gap_seconds")
        if self.switch_min_gap_seconds > self.switch_max_gap_seconds:
            raise ValueError("wechaty.switch_min_gap_seconds exceeds switch_max_gap_seconds")
        if self.enabled and not (self.endpoint and self.token):
            raise ValueError(
                "wechaty is enabled but needs endpoint and token "
                "(WECHATY_PUPPET_SERVICE_ENDPOINT, WECHATY_PUPPET_SERVICE_TOKEN)"
            )
        return self


class InsuranceConfig(_Strict):
    """One personal accident insurance product offered with contracts (seed 第七章)."""

    id: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")
    insurer: str = Field(min_length=1, max_length=64)
    product: str = Field(min_length=1, max_length=64)
    premium_fen: int = Field(ge=0, le=100_000)
    """Per worker per day, integer fen."""
    coverage: str = Field(min_length=1, max_length=120)
    payer: Literal["employer", "worker"] = "employer"


class PushConfig(_Strict):
    """Digests, priority help and reminders (issue 6). Names match market.settings.MarketSettings."""

    digest_size: int = Field(5, ge=1, le=10)
    quiet_start: int = Field(21, ge=0, le=23)
    """No pushes from this hour (local) ..."""
    quiet_end: int = Field(6, ge=0, le=23)
    """... until this one."""
    weekly_push_budget: int = Field(10, ge=1, le=100)
    ignored_digest_limit: int = Field(3, ge=1, le=30)
    first_look_minutes: int = Field(30, ge=0, le=24 * 60)
    """Priority workers see a new fitting order this long before everyone else (第七条)."""
    priority_age: int = Field(50, ge=16, le=100)
    priority_wait_days: int = Field(14, ge=1, le=365)
    priority_offers_per_order: int = Field(5, ge=0, le=50)
    still_hiring_after_hours: int = Field(48, ge=1)
    still_hiring_answer_hours: int = Field(24, ge=1)
    group_digest_hour: int = Field(7, ge=0, le=23)
    start_reminder_hours: int = Field(12, ge=1, le=72)
    sign_reminder_hours: int = Field(2, ge=1, le=72)


class MarketConfig(_Strict):
    """Market rules: pushes, links, the operator, payment and dispute deadlines, insurance."""

    pushes: PushConfig = PushConfig()
    public_url: str = ""
    """Base of links people open from chat (contract PDFs), e.g. ``https://lg.example.cn``.
    Empty: the address ``linggong serve`` listens on."""
    operator_name: str = "沙县区零工市场运营中心"
    """Named in contracts as the mediator (第二十二条: the operator handles disputes)."""
    payment_due_hours: int = Field(24, ge=1, le=24 * 15)
    """A completed job is paid within this (非全日制: pay cycle ≤ 15 days)."""
    arrears_escalate_hours: int = Field(48, ge=1, le=24 * 30)
    dispute_respond_hours: int = Field(24, ge=1, le=24 * 14)
    insurance: tuple[InsuranceConfig, ...] = (
        InsuranceConfig(
            id="basic", insurer="示例保险公司", product="零工人身意外险（日保）", premium_fen=300,
            coverage="意外身故伤残10万元，意外医疗1万元",
        ),
    )

    @field_validator("insurance")
    @classmethod
    def _unique_ids(cls, value: tuple[InsuranceConfig, ...]) -> tuple[InsuranceConfig, ...]:
        ids = [o.id for o in value]
        if len(ids) != len(set(ids)):
            raise ValueError("insurance ids must be unique")
        return value


class SchedulerConfig(_Strict):
    """Whether this process runs the scheduled jobs, and how fast."""

    enabled: bool = True
    """Run the scheduled jobs in this process (digests, reminders, arrears, expiry)."""
    time_scale: float = Field(1.0, gt=0, le=3600)
    """Run every job this many times more often — for demos and tests only."""


# --- login: SMS codes and WeChat 网页授权 (secrets come from the environment) ----------------
_BASE_URL = r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~/-]*)?$"


class TencentSmsConfig(_Strict):
    """腾讯云短信 (API 3.0, SendSms 2021-01-11)."""

    secret_id: str = Field("", pattern=_ID, max_length=128)
    """TENCENT_SMS_SECRET_ID: the CAM API key's SecretId."""
    secret_key: str = Field("", max_length=128, repr=False)
    """TENCENT_SMS_SECRET_KEY."""
    sdk_app_id: str = Field("", pattern=r"^[0-9]*$", max_length=20)
    """TENCENT_SMS_SDK_APP_ID: the SMS application's SdkAppId (1400…)."""
    sign_name: str = Field("", max_length=32)
    """TENCENT_SMS_SIGN_NAME: the approved 签名, without 【】."""
    template_id: str = Field("", pattern=r"^[0-9]*$", max_length=20)
    """TENCENT_SMS_TEMPLATE_ID: an approved template whose only parameter {1} is the code."""
    region: str = Field("ap-guangzhou", pattern=r"^[a-z]+-[a-z]+(-[0-9]+)?$")
    endpoint: str = Field("https://sms.tencentcloudapi.com", pattern=_BASE_URL)


class AliyunSmsConfig(_Strict):
    """阿里云短信 (dysmsapi SendSms 2017-05-25, signature V3 ACS3-HMAC-SHA256)."""

    access_key_id: str = Field("", pattern=_ID, max_length=128)
    """ALIYUN_SMS_ACCESS_KEY_ID (a RAM user's AccessKey with AliyunDysmsFullAccess)."""
    access_key_secret: str = Field("", max_length=128, repr=False)
    """ALIYUN_SMS_ACCESS_KEY_SECRET."""
    sign_name: str = Field("", max_length=32)
    """ALIYUN_SMS_SIGN_NAME: the approved 签名."""
    template_code: str = Field("", pattern=r"^[A-Za-z0-9_]*$", max_length=64)
    """ALIYUN_SMS_TEMPLATE_CODE: ``SMS_…``, a 验证码 template."""
    template_param: str = Field("code", pattern=r"^[A-Za-z0-9_]+$", max_length=32)
    """The template's variable that receives the code (``${code}``)."""
    endpoint: str = Field("https://dysmsapi.aliyuncs.com", pattern=_BASE_URL)


_SMS_REQUIRED: dict[str, tuple[tuple[str, str], ...]] = {
    "tencent": (
        ("secret_id", "TENCENT_SMS_SECRET_ID"),
        ("secret_key", "TENCENT_SMS_SECRET_KEY"),
        ("sdk_app_id", "TENCENT_SMS_SDK_APP_ID"),
        ("sign_name", "TENCENT_SMS_SIGN_NAME"),
        ("template_id", "TENCENT_SMS_TEMPLATE_ID"),
    ),
    "aliyun": (
        ("access_key_id", "ALIYUN_SMS_ACCESS_KEY_ID"),
        ("access_key_secret", "ALIYUN_SMS_ACCESS_KEY_SECRET"),
        ("sign_name", "ALIYUN_SMS_SIGN_NAME"),
        ("template_code", "ALIYUN_SMS_TEMPLATE_CODE"),
    ),
}


class SmsConfig(_Strict):
    """Login codes by SMS. ``none`` (default): no SMS login; ``log``: demo mode, codes are only
    logged; ``tencent`` / ``aliyun``: real SMS, credentials from the environment."""

    provider: Literal["none", "log", "tencent", "aliyun"] = "none"
    """SMS_PROVIDER."""
    code_ttl_seconds: int = Field(300, ge=60, le=3600)
    max_attempts: int = Field(5, ge=1, le=20)
    """Wrong guesses before a code is void."""
    per_phone_per_hour: int = Field(5, ge=1, le=100)
    per_ip_per_hour: int = Field(20, ge=1, le=10_000)
    request_timeout_seconds: float = Field(10.0, gt=0, le=60)
    tencent: TencentSmsConfig = TencentSmsConfig()
    aliyun: AliyunSmsConfig = AliyunSmsConfig()

    @model_validator(mode="after")
    def _credentials_for_provider(self) -> SmsConfig:
        required = _SMS_REQUIRED.get(self.provider, ())
        section = getattr(self, self.provider, None)
        missing = [f"sms.{self.provider}.{key} ({var})" for key, var in required
                   if not getattr(section, key)]
        if missing:
            raise ValueError(
                f"sms.provider is {self.provider} but these are not set: {', '.join(missing)}"
            )
        return self


class WechatWebAuthConfig(_Strict):
    """WeChat 网页授权 for the web pages, with the 公众号's AppID and AppSecret
    (WECHAT_OA_APPID, WECHAT_OA_SECRET); on when both are there."""

    appid: str = Field("", pattern=_ID, max_length=32)
    secret: str = Field("", max_length=64, repr=False)
    api_base: str = Field("https://api.weixin.qq.com", pattern=_BASE_URL)
    """WECHAT_API_BASE (the code → openid exchange)."""
    open_base: str = Field("https://open.weixin.qq.com", pattern=_BASE_URL)
    """WECHAT_OPEN_BASE (the authorize page the browser is sent to)."""
    scope: Literal["snsapi_base", "snsapi_userinfo"] = "snsapi_base"

    @property
    def enabled(self) -> bool:
        return bool(self.appid and self.secret)


# environment variable → the config keys it sets (read by ``load_config``)
LOGIN_ENV: dict[str, tuple[tuple[str, ...], ...]] = {
    "SMS_PROVIDER": (("sms", "provider"),),
    "TENCENT_SMS_SECRET_ID": (("sms", "tencent", "secret_id"),),
    "TENCENT_SMS_SECRET_KEY": (("sms", "tencent", "secret_key"),),
    "TENCENT_SMS_SDK_APP_ID": (("sms", "tencent", "sdk_app_id"),),
    "TENCENT_SMS_SIGN_NAME": (("sms", "tencent", "sign_name"),),
    "TENCENT_SMS_TEMPLATE_ID": (("sms", "tencent", "template_id"),),
    "TENCENT_SMS_REGION": (("sms", "tencent", "region"),),
    "ALIYUN_SMS_ACCESS_KEY_ID": (("sms", "aliyun", "access_key_id"),),
    "ALIYUN_SMS_ACCESS_KEY_SECRET": (("sms", "aliyun", "access_key_secret"),),
    "ALIYUN_SMS_SIGN_NAME": (("sms", "aliyun", "sign_name"),),
    "ALIYUN_SMS_TEMPLATE_CODE": (("sms", "aliyun", "template_code"),),
    "SMS_API_BASE": (("sms", "tencent", "endpoint"), ("sms", "aliyun", "endpoint")),
    "WECHAT_OA_APPID": (("wechat_web_auth", "appid"),),
    "WECHAT_OA_SECRET": (("wechat_web_auth", "secret"),),
    "WECHAT_API_BASE": (("wechat_web_auth", "api_base"),),
    "WECHAT_OPEN_BASE": (("wechat_web_auth", "open_base"),),
}


def _login_env(raw: dict[str, Any], env: dict[str, str]) -> None:
    """Apply ``LOGIN_ENV`` to the loaded YAML (copies; a non-mapping section is left for the
    validation to report)."""
    for var, targets in LOGIN_ENV.items():
        value = env.get(var, "").strip()
        if not value:
            continue
        if var == "SMS_PROVIDER":
            value = value.lower()
        for *sections, key in targets:
            node: Any = raw
            for name in sections:
                child = node.get(name)
                if child is None:
                    child = {}
                if not isinstance(child, dict):
                    break
                node[name] = child = dict(child)
                node = child
            else:
                node[key] = value


class AppConfig(_Strict):
    """The whole validated configuration (``config.yaml`` plus the environment)."""

    service: ServiceConfig = ServiceConfig()
    market: MarketConfig = MarketConfig()
    scheduler: SchedulerConfig = SchedulerConfig()
    database: DatabaseConfig = DatabaseConfig()
    dialogs: DialogConfig = DialogConfig()
    outbox: OutboxConfig = OutboxConfig()
    webchat: WebchatConfig = WebchatConfig()
    wechat_oa: WechatOAConfig = WechatOAConfig()
    wecom: WecomConfig = WecomConfig()
    wecom_robot: WecomRobotConfig = WecomRobotConfig()
    wechaty: WechatyConfig = WechatyConfig()
    sms: SmsConfig = SmsConfig()
    wechat_web_auth: WechatWebAuthConfig = WechatWebAuthConfig()

    @property
    def public_url(self) -> str:
        """Where people open links from their chat: ``market.public_url``, else the address
        served (``linggong serve`` puts the real host and port into ``service``)."""
        return (self.market.public_url or f"http://{self.service.host}:{self.service.port}").rstrip("/")


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


# environment variable → (config section, key); a channel's switch variable also turns it on.
CHANNEL_ENV: dict[str, tuple[str, str]] = {
    "WECHAT_OA_TOKEN": ("wechat_oa", "token"),
    "WECHAT_OA_AES_KEY": ("wechat_oa", "aes_key"),
    "WECHAT_OA_APPID": ("wechat_oa", "appid"),
    "WECHAT_OA_SECRET": ("wechat_oa", "secret"),
    "WECHAT_OA_COMPAT_MODE": ("wechat_oa", "compat_mode"),
    "WECHAT_API_BASE": ("wechat_oa", "api_base"),
    "WECOM_CORP_ID": ("wecom", "corp_id"),
    "WECOM_TOKEN": ("wecom", "token"),
    "WECOM_AES_KEY": ("wecom", "aes_key"),
    "WECOM_SECRET": ("wecom", "secret"),
    "WECOM_AGENT_ID": ("wecom", "agent_id"),
    "WECOM_API_BASE": ("wecom", "api_base"),
    "WECHATY_PUPPET_SERVICE_ENDPOINT": ("wechaty", "endpoint"),
    "WECHATY_PUPPET_SERVICE_TOKEN": ("wechaty", "token"),
}
CHANNEL_SWITCH_ENV = {
    "WECHAT_OA_TOKEN": "wechat_oa",
    "WECOM_TOKEN": "wecom",
    "WECOM_ROBOT_KEYS": "wecom_robot",
}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _channel_env(raw: dict[str, Any], env: dict[str, str]) -> None:
    """Apply the channel environment variables (see the README's "WeChat channels")."""

    def section(name: str) -> dict[str, Any]:
        value = raw.get(name)
        if not isinstance(value, dict):
            value = {}
        raw[name] = value = dict(value)
        return value

    for var, (name, key) in CHANNEL_ENV.items():
        if env.get(var):
            section(name)[key] = env[var]
    if env.get("WECOM_API_BASE"):
        section("wecom_robot")["api_base"] = env["WECOM_API_BASE"]
    if env.get("WECOM_ROBOT_KEYS"):
        robots: dict[str, str] = {}
        for i, item in enumerate(p.strip() for p in env["WECOM_ROBOT_KEYS"].split(",")):
            if not item:
                continue
            name, sep, key = item.partition("=")
            if not sep:  # a bare key
                name, key = f"robot{i + 1}" if i else "default", name
            robots[name.strip()] = key.strip()
        section("wecom_robot")["robots"] = robots
    for var, name in CHANNEL_SWITCH_ENV.items():
        if env.get(var):
            section(name)["enabled"] = True
    for name, var in (
        ("wechat_oa", "WECHAT_OA_ENABLED"),
        ("wecom", "WECOM_ENABLED"),
        ("wecom_robot", "WECOM_ROBOT_ENABLED"),
        ("wechaty", "WECHATY_ENABLED"),
    ):
        flag = env.get(var, "").strip().lower()
        if flag in _TRUE:
            section(name)["enabled"] = True
        elif flag in _FALSE:
            section(name)["enabled"] = False


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
    _login_env(raw, env)
    if env.get("DATABASE_URL"):
        raw.setdefault("database", {})
        raw["database"] = {**raw["database"], "url": env["DATABASE_URL"]}
    _channel_env(raw, env)
    _webchat_env(raw, env)
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
