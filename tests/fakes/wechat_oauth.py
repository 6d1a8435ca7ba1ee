"""A fake WeChat 网页授权 on 127.0.0.1: the authorize page (``open.weixin.qq.com``) and the code
exchange (``api.weixin.qq.com/sns/oauth2/access_token``), as WeChat documents them.

* ``GET /connect/oauth2/authorize?appid&redirect_uri&response_type=code&scope&state`` — the
  person "agrees" at once: 302 to ``redirect_uri?code=CODE&state=STATE`` with a fresh code for
  ``fake.user_openid``; a wrong appid, scope or response type, or a redirect outside
  ``fake.domain`` (when set), answers WeChat's error page instead.
* ``GET /sns/oauth2/access_token?appid&secret&code&grant_type=authorization_code`` — a code is
  good once: ``{"access_token", "expires_in", "refresh_token", "openid", "scope"}``; a used code
  answers ``40163``, an unknown one ``40029``, a wrong secret ``40125``, a wrong appid ``40013``.

    async with wechat_oauth_fake("wx_fake_appid", "fake_secret") as fake:
        fake.codes["CODE1"] = "o6_bmjrPTlm6_2sgVt7hMZOPfL2M"   # one-time code → openid
        fake.snapshot.add("CODE2")     # that code's user is a 快照页 virtual account
        fake.url                       # both api_base and open_base
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from aiohttp import web

from tests.fakes import serving

SCOPES = ("snsapi_base", "snsapi_userinfo")


@dataclass
class WeChatOAuthFake:
    appid: str
    secret: str
    domain: str | None = None
    """The 网页授权域名: when set, redirect_uri must be on this host (``host[:port]``)."""
    user_openid: str = "oFake_" + "u" * 22
    """Whose code the authorize page hands out."""
    url: str = ""
    codes: dict[str, str] = field(default_factory=dict)
    """Unused code → openid."""
    used: set[str] = field(default_factory=set)
    snapshot: set[str] = field(default_factory=set)
    """Codes whose user is in 快照页 mode (``is_snapshotuser: 1``)."""
    exchanges: list[dict[str, str]] = field(default_factory=list)
    """Query of every code exchange, in order (for asserting what was sent)."""
    authorizations: list[dict[str, str]] = field(default_factory=list)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/connect/oauth2/authorize", self._authorize)
        app.router.add_get("/sns/oauth2/access_token", self._access_token)
        return app

    @staticmethod
    def _err(errcode: int, errmsg: str) -> web.Response:
        rid = secrets.token_hex(4)
        return web.json_response({"errcode": errcode, "errmsg": f"{errmsg} rid: {rid}"})

    async def _authorize(self, request: web.Request) -> web.Response:
        q = dict(request.query)
        self.authorizations.append(q)
        redirect = q.get("redirect_uri", "")
        parts = urlsplit(redirect)
        problem = ""
        if q.get("appid") != self.appid:
            problem = "appid 参数错误"
        elif q.get("response_type") != "code":
            problem = "response_type 参数错误"
        elif q.get("scope") not in SCOPES:
            problem = "scope 参数错误或没有 scope 权限"
        elif parts.scheme not in ("http", "https") or (
            self.domain is not None and parts.netloc != self.domain
        ):
            problem = "redirect_uri 参数错误"  # 10003 on WeChat's page
        if problem:
            return web.Response(text=f"<html><body>{problem}</body></html>", content_type="text/html")
        code = secrets.token_urlsafe(24)
        self.codes[code] = self.user_openid
        sep = "&" if parts.query else "?"
        target = redirect + sep + urlencode({"code": code, "state": q.get("state", "")})
        raise web.HTTPFound(target)

    async def _access_token(self, request: web.Request) -> web.Response:
        q = dict(request.query)
        self.exchanges.append(q)
        if q.get("appid") != self.appid:
            return self._err(40013, "invalid appid")
        if q.get("secret") != self.secret:
            return self._err(40125, "invalid appsecret")
        if q.get("grant_type") != "authorization_code":
            return self._err(40002, "invalid grant_type")
        code = q.get("code", "")
        if not code:
            return self._err(41008, "missing code")
        if code in self.used:
            return self._err(40163, "code been used")
        openid = self.codes.pop(code, None)
        if openid is None:
            return self._err(40029, "invalid code")
        self.used.add(code)
        answer: dict[str, Any] = {
            "access_token": "ACCESS_" + secrets.token_hex(16),
            "expires_in": 7200,
            "refresh_token": "REFRESH_" + secrets.token_hex(16),
            "openid": openid,
            "scope": "snsapi_base",
        }
        if code in self.snapshot:
            answer["is_snapshotuser"] = 1
        return web.json_response(answer)


@asynccontextmanager
async def wechat_oauth_fake(
    appid: str, secret: str, **options: Any
) -> AsyncIterator[WeChatOAuthFake]:
    fake = WeChatOAuthFake(appid, secret, **options)
    async with serving(fake.app()) as url:
        fake.url = url
        yield fake
