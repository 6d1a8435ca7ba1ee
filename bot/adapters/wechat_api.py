"""Small async clients for the outbound WeChat HTTP APIs (公众号, 企业微信, group robots).

wechatpy's clients are synchronous (requests), so outbound calls are made here with aiohttp; every
base URL comes from configuration (``WECHAT_API_BASE`` / ``WECOM_API_BASE``) so tests point them at
a fake API on loopback and production at Tencent.

* access tokens are cached until shortly before they expire, fetched by one caller at a time;
* ``40001`` / ``40014`` / ``42001`` (invalid or expired token) refresh the token and retry the call
  **once** (``before_retry`` lets the caller re-check its rate limit before the second call);
* every other ``errcode`` is raised as ``WeChatApiError`` for the transport to classify;
* network errors, timeouts and non-2xx answers are ``ApiUnavailable`` (retry later).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

log = logging.getLogger("bot.wechat_api")

TOKEN_ERRORS = frozenset({40001, 40014, 42001})
"""invalid credential / invalid access_token / access_token expired."""


class ApiUnavailable(Exception):
    """The API could not be reached or answered garbage: try again later."""


class WeChatApiError(Exception):
    """A WeChat API call answered with a non-zero ``errcode``."""

    def __init__(self, errcode: int, errmsg: str, *, api: str) -> None:
        super().__init__(f"{api}: errcode {errcode} {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg
        self.api = api


class HttpJson:
    """One aiohttp session (created lazily inside the running loop) and a base URL."""

    def __init__(self, base: str, *, timeout: float) -> None:
        self.base = base.rstrip("/")
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=self.timeout, headers={"User-Agent": "linggong/0.1"}
            )
        return self._session

    async def request(
        self, method: str, path: str, *, params: dict[str, str] | None = None, body: Any = None
    ) -> dict[str, Any]:
        url = self.base + path
        data = None if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json; charset=utf-8"} if data is not None else None
        try:
            async with self._client().request(
                method, url, params=params, data=data, headers=headers
            ) as resp:
                raw = await resp.read()
                if resp.status >= 400:
                    raise ApiUnavailable(f"{path}: HTTP {resp.status}")
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise ApiUnavailable(f"{path}: {type(exc).__name__} {exc}".strip()) from exc
        try:
            result = json.loads(raw)
        except ValueError as exc:
            raise ApiUnavailable(f"{path}: answer is not JSON") from exc
        if not isinstance(result, dict):
            raise ApiUnavailable(f"{path}: answer is not a JSON object")
        return result

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None


def _check(result: dict[str, Any], api: str) -> dict[str, Any]:
    code = result.get("errcode", 0)
    try:
        code = int(code or 0)
    except (TypeError, ValueError):
        code = -1
    if code != 0:
        raise WeChatApiError(code, str(result.get("errmsg", ""))[:200], api=api)
    return result


class AccessToken:
    """A cached access token, refreshed ``margin`` seconds before expiry, one fetch at a time."""

    def __init__(
        self,
        fetch: Callable[[], Awaitable[tuple[str, float]]],
        *,
        margin: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self.margin = margin
        self.clock = clock
        self._token = ""
        self._expires = 0.0
        self._lock = asyncio.Lock()
        self.fetches = 0

    async def get(self) -> str:
        if self._token and self.clock() < self._expires:
            return self._token
        async with self._lock:
            if self._token and self.clock() < self._expires:
                return self._token
            token, expires_in = await self._fetch()
            self.fetches += 1
            self._token = token
            self._expires = self.clock() + max(30.0, expires_in - self.margin)
            return token

    def invalidate(self, token: str) -> None:
        """Forget ``token`` (only if it is still the current one: another caller may have
        refreshed it already)."""
        if token == self._token:
            self._token = ""
            self._expires = 0.0


class _TokenApi:
    """Shared: call an endpoint with ``?access_token=``, refresh and retry once on 4000x/42001."""

    api_name = "wechat"

    def __init__(self, http: HttpJson) -> None:
        self.http = http
        self.token = AccessToken(self._fetch_token)

    async def _fetch_token(self) -> tuple[str, float]:  # pragma: no cover - abstract
        raise NotImplementedError

    async def call(
        self,
        path: str,
        body: dict[str, Any],
        *,
        before_retry: Callable[[], Awaitable[None]] | None = None,
    ) -> dict[str, Any]:
        for attempt in (1, 2):
            token = await self.token.get()
            result = await self.http.request(
                "POST", path, params={"access_token": token}, body=body
            )
            try:
                return _check(result, path)
            except WeChatApiError as exc:
                if exc.errcode not in TOKEN_ERRORS or attempt == 2:
                    raise
                log.warning("%s: access token rejected (%s); refreshing once", path, exc.errcode)
                self.token.invalidate(token)
                if before_retry is not None:
                    await before_retry()
        raise AssertionError("unreachable")  # pragma: no cover

    async def close(self) -> None:
        await self.http.close()


class OfficialAccountApi(_TokenApi):
    """公众号: access token, 客服消息 (custom/send) and 模板消息 (template/send)."""

    def __init__(
        self, http: HttpJson, appid: str, secret: str, *, stable_token: bool = False
    ) -> None:
        super().__init__(http)
        self.appid = appid
        self.secret = secret
        self.stable_token = stable_token

    async def _fetch_token(self) -> tuple[str, float]:
        if not (self.appid and self.secret):
            raise WeChatApiError(
                41002, "no appid/secret configured (WECHAT_OA_APPID/SECRET)", api="token"
            )
        if self.stable_token:
            result = await self.http.request(
                "POST",
                "/cgi-bin/stable_token",
                body={
                    "grant_type": "client_credential",
                    "appid": self.appid,
                    "secret": self.secret,
                },
            )
        else:
            result = await self.http.request(
                "GET",
                "/cgi-bin/token",
                params={
                    "grant_type": "client_credential",
                    "appid": self.appid,
                    "secret": self.secret,
                },
            )
        _check(result, "/cgi-bin/token")
        token = str(result.get("access_token") or "")
        if not token:
            raise ApiUnavailable("/cgi-bin/token: no access_token in the answer")
        return token, float(result.get("expires_in") or 7200)

    async def send_text(
        self, openid: str, text: str, *, before_retry: Callable[[], Awaitable[None]] | None = None
    ) -> dict[str, Any]:
        body = {"touser": openid, "msgtype": "text", "text": {"content": text}}
        return await self.call("/cgi-bin/message/custom/send", body, before_retry=before_retry)

    async def create_qr(self, scene: str, *, expire_seconds: int) -> dict[str, Any]:
        """A temporary QR code whose scan sends us ``scene`` as the event key (``qrscene_`` +
        scene when the scanner subscribes); the answer's ``url`` is what the QR code encodes."""
        body = {
            "expire_seconds": expire_seconds,
            "action_name": "QR_STR_SCENE",
            "action_info": {"scene": {"scene_str": scene}},
        }
        return await self.call("/cgi-bin/qrcode/create", body)

    async def send_template(
        self,
        openid: str,
        template_id: str,
        data: dict[str, str],
        *,
        url: str = "",
        client_msg_id: str = "",
        before_retry: Callable[[], Awaitable[None]] | None = None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "touser": openid,
            "template_id": template_id,
            "data": {k: {"value": v} for k, v in data.items()},
        }
        if url:
            body["url"] = url
        if client_msg_id:
            body["client_msg_id"] = client_msg_id  # WeChat drops a repeat within 10 min
        return await self.call("/cgi-bin/message/template/send", body, before_retry=before_retry)


class WeComApi(_TokenApi):
    """企业微信: gettoken and app messages (message/send)."""

    def __init__(self, http: HttpJson, corp_id: str, secret: str, agent_id: int | None) -> None:
        super().__init__(http)
        self.corp_id = corp_id
        self.secret = secret
        self.agent_id = agent_id

    async def _fetch_token(self) -> tuple[str, float]:
        if not (self.corp_id and self.secret and self.agent_id is not None):
            raise WeChatApiError(
                41004,
                "no corpsecret/agent id configured (WECOM_SECRET/WECOM_AGENT_ID)",
                api="gettoken",
            )
        result = await self.http.request(
            "GET", "/cgi-bin/gettoken", params={"corpid": self.corp_id, "corpsecret": self.secret}
        )
        _check(result, "/cgi-bin/gettoken")
        token = str(result.get("access_token") or "")
        if not token:
            raise ApiUnavailable("/cgi-bin/gettoken: no access_token in the answer")
        return token, float(result.get("expires_in") or 7200)

    async def send_text(
        self, user_id: str, text: str, *, before_retry: Callable[[], Awaitable[None]] | None = None
    ) -> dict[str, Any]:
        body = {
            "touser": user_id,
            "msgtype": "text",
            "agentid": self.agent_id,
            "text": {"content": text},
            # WeCom drops an identical message within the interval: a resend after a lost
            # answer does not reach the person twice.
            "enable_duplicate_check": 1,
            "duplicate_check_interval": 1800,
        }
        result = await self.call("/cgi-bin/message/send", body, before_retry=before_retry)
        if result.get("invaliduser"):
            raise WeChatApiError(
                81013, f"invalid user {result['invaliduser']}", api="/cgi-bin/message/send"
            )
        return result


class RobotWebhook:
    """企业微信 group robot: POST /cgi-bin/webhook/send?key=KEY (send-only, no token)."""

    def __init__(self, http: HttpJson) -> None:
        self.http = http

    async def send_text(
        self, key: str, text: str, mentioned_mobiles: list[str] | None = None
    ) -> None:
        content: dict[str, Any] = {"content": text}
        if mentioned_mobiles:
            content["mentioned_mobile_list"] = list(mentioned_mobiles)
        await self.send(key, {"msgtype": "text", "text": content})

    async def send(self, key: str, payload: dict[str, Any]) -> None:
        result = await self.http.request(
            "POST", "/cgi-bin/webhook/send", params={"key": key}, body=payload
        )
        _check(result, "/cgi-bin/webhook/send")

    async def close(self) -> None:
        await self.http.close()


def split_utf8(text: str, max_bytes: int) -> list[str]:
    """Split ``text`` into pieces of at most ``max_bytes`` UTF-8 bytes, at line ends if it can."""
    if len(text.encode("utf-8")) <= max_bytes:
        return [text]
    pieces: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        while len(line.encode("utf-8")) > max_bytes:  # one very long line: cut by characters
            cut = len(line)
            while len(line[:cut].encode("utf-8")) > max_bytes:
                cut = max(1, cut * max_bytes // len(line[:cut].encode("utf-8")) - 1)
            if current:
                pieces.append(current)
                current = ""
            pieces.append(line[:cut])
            line = line[cut:]
        if len((current + line).encode("utf-8")) > max_bytes:
            pieces.append(current)
            current = line
        else:
            current += line
    if current:
        pieces.append(current)
    return [p.rstrip("\n") or p for p in pieces if p]


def client_msg_id(idempotency_key: str, part: int = 0) -> str:
    """A short, stable id for WeChat's ``client_msg_id`` (same row → same id)."""
    return hashlib.sha1(f"{idempotency_key}#{part}".encode()).hexdigest()[:32]
