"""WeChat 网页授权 (OAuth 2.0 for a 公众号's web pages): who is the WeChat user opening our page?

1. ``authorize_url`` sends the browser to ``open.weixin.qq.com/connect/oauth2/authorize``; WeChat
   sends it back to ``redirect_uri?code=CODE&state=STATE`` (``snsapi_base``: silently).
2. ``openid_for_code`` exchanges the code, server to server, at
   ``api.weixin.qq.com/sns/oauth2/access_token`` for the user's openid under our AppID.

A code works once and for five minutes. A user in 快照页 (snapshot) mode has a *virtual*
openid (``is_snapshotuser: 1``); it is refused, since it is nobody's real account.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Literal
from urllib.parse import quote, urlencode, urlsplit

import aiohttp

from bot.login.http import HttpClient, Unreachable

log = logging.getLogger("bot.login.wechat_oauth")

API_BASE = "https://api.weixin.qq.com"
OPEN_BASE = "https://open.weixin.qq.com"
SCOPES = ("snsapi_base", "snsapi_userinfo")

_CODE = re.compile(r"[A-Za-z0-9_-]{1,128}")
_OPENID = re.compile(r"[A-Za-z0-9_-]{6,64}")
_STATE = re.compile(r"[A-Za-z0-9]{0,128}")  # WeChat: a-zA-Z0-9, at most 128 bytes

CODE_ERRORS = frozenset({40029, 40163, 41008, 42003})
"""invalid code / code been used / missing code / code expired: start the login again."""
CONFIG_ERRORS = frozenset({40013, 40125, 40164, 41002, 41004, 48001, 50001})
"""invalid appid / invalid appsecret / IP not whitelisted / appid or secret missing / API
unauthorized (no 网页授权 permission): the operators must fix it."""

OAuthFailure = Literal["code", "config", "unavailable", "snapshot", "answer"]


class OAuthError(Exception):
    """The code did not give an openid. ``kind``: ``code`` (bad, used or expired code: send the
    person through the authorize URL again), ``config`` (AppID/secret/permissions), ``snapshot``
    (快照页 virtual user: ask them to tap 使用完整服务), ``unavailable`` (try again later) or
    ``answer`` (WeChat said something unexpected)."""

    def __init__(self, message: str, *, errcode: int = 0, kind: OAuthFailure = "answer") -> None:
        super().__init__(message)
        self.errcode = errcode
        self.kind: OAuthFailure = kind

    @property
    def retryable(self) -> bool:
        """The same code may still work a moment later (only when WeChat was not reached)."""
        return self.kind == "unavailable"


class WeChatWebAuth:
    """WeChat 网页授权 for one 公众号: the authorisation link and the code → openid exchange."""

    def __init__(
        self,
        appid: str,
        secret: str,
        *,
        api_base: str = API_BASE,
        open_base: str = OPEN_BASE,
        http: aiohttp.ClientSession | None = None,
        timeout: float = 10.0,
    ) -> None:
        if not (appid and secret):
            raise ValueError("WeChat web auth needs the 公众号 AppID and AppSecret")
        self.appid = appid
        self._secret = secret
        self.api_base = api_base.rstrip("/")
        self.open_base = open_base.rstrip("/")
        self.http = HttpClient(timeout=timeout, session=http)

    def authorize_url(self, redirect_uri: str, state: str, scope: str = "snsapi_base") -> str:
        """Where to send the browser; WeChat wants the parameters in this order and the
        ``#wechat_redirect`` fragment. ``redirect_uri`` must be on the 网页授权域名."""
        parts = urlsplit(redirect_uri)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.fragment:
            raise ValueError("redirect_uri must be an absolute http(s) URL without a fragment")
        if not _STATE.fullmatch(state):
            raise ValueError("state must be at most 128 letters and digits")
        if scope not in SCOPES:
            raise ValueError(f"scope must be one of {', '.join(SCOPES)}")
        query = urlencode(
            [
                ("appid", self.appid),
                ("redirect_uri", redirect_uri),
                ("response_type", "code"),
                ("scope", scope),
                ("state", state),
            ],
            quote_via=quote,
            safe="",
        )
        return f"{self.open_base}/connect/oauth2/authorize?{query}#wechat_redirect"

    async def openid_for_code(self, code: str) -> str:
        """The openid of the user who came back with ``code``; ``OAuthError`` otherwise."""
        if not _CODE.fullmatch(code):
            raise OAuthError("the code is not of WeChat's shape", kind="code")
        query = urlencode(
            {
                "appid": self.appid,
                "secret": self._secret,
                "code": code,
                "grant_type": "authorization_code",
            }
        )
        url = f"{self.api_base}/sns/oauth2/access_token?{query}"
        try:
            status, raw = await self.http.request("GET", url)
        except Unreachable as exc:
            raise OAuthError(f"sns/oauth2/access_token: {exc}", kind="unavailable") from exc
        if status >= 500:
            raise OAuthError(f"sns/oauth2/access_token: HTTP {status}", kind="unavailable")
        try:
            answer = json.loads(raw)
            if not isinstance(answer, dict):
                raise TypeError
        except (ValueError, TypeError) as exc:
            raise OAuthError(
                f"sns/oauth2/access_token: HTTP {status}, not JSON", kind="unavailable"
            ) from exc
        errcode = _int(answer.get("errcode", 0))
        if errcode != 0:
            kind: OAuthFailure = (
                "code" if errcode in CODE_ERRORS
                else "config" if errcode in CONFIG_ERRORS
                else "unavailable" if errcode in (-1, 45009)  # system busy / frequency limit
                else "answer"
            )
            errmsg = str(answer.get("errmsg", ""))[:200]
            log.warning("wechat web auth: errcode %s %s", errcode, errmsg)
            raise OAuthError(f"errcode {errcode}: {errmsg}", errcode=errcode, kind=kind)
        openid = answer.get("openid")
        if not isinstance(openid, str) or not _OPENID.fullmatch(openid):
            raise OAuthError("the answer has no openid of WeChat's shape", kind="answer")
        if _int(answer.get("is_snapshotuser", 0)) == 1:
            raise OAuthError("a 快照页 (snapshot-mode) virtual user", kind="snapshot")
        return openid

    async def close(self) -> None:
        await self.http.close()


def _int(value: object) -> int:
    """WeChat's numbers (errcode, is_snapshotuser) as int; -2 for anything that is not one."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        return -2
    try:
        return int(value)
    except ValueError:
        return -2
