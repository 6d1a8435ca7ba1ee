"""A fake WeChat / WeCom HTTP API on loopback, for the outbox senders.

Endpoints (as Tencent documents them; JSON answers with ``errcode``/``errmsg``):

* 公众号: ``GET /cgi-bin/token``, ``POST /cgi-bin/stable_token``,
  ``POST /cgi-bin/message/custom/send``, ``POST /cgi-bin/message/template/send``,
  ``POST /cgi-bin/qrcode/create`` (temporary ``QR_STR_SCENE`` codes; ``qr_scenes`` maps each
  answered ``url`` to its scene, so a test can "scan" what the kiosk shows);
* 企业微信: ``GET /cgi-bin/gettoken``, ``POST /cgi-bin/message/send``;
* group robot: ``POST /cgi-bin/webhook/send?key=…``.

It enforces its own limits (a sliding window per endpoint and key; over the limit → 45009, or
130101 for robots) and records every violation, so a test can prove the client never exceeded
them. Faults are injected at a configurable rate from a seeded RNG:

* ``45009`` — api freq out of limit, ``45015`` — out of the 客服 window (公众号 custom/send only),
* ``timeout`` — the request hangs past the client's timeout and is **not** processed,
* ``token`` — the access token is declared expired (42001) once, forcing a refresh.

``delivered`` lists what was accepted, in order; ``calls`` every send attempt with its time.
Template sends honour ``client_msg_id`` like WeChat (a repeat is accepted but not delivered again).
"""

from __future__ import annotations

import asyncio
import random
import secrets
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

SEND_PATHS = {
    "/cgi-bin/message/custom/send": "oa_custom",
    "/cgi-bin/message/template/send": "oa_template",
    "/cgi-bin/message/send": "wecom_app",
    "/cgi-bin/webhook/send": "robot",
}


@dataclass
class Limit:
    limit: int
    window: float
    per: str = "all"  # "all" | "to" (per recipient / per robot key)


@dataclass
class Call:
    at: float
    api: str
    to: str
    text: str
    outcome: str  # "ok" | "45009" | "45015" | "timeout" | "42001" | "limit" | ...


@dataclass
class FakeWeChatApi:
    fault_rate: float = 0.0
    faults: tuple[str, ...] = ("45009", "45015", "timeout")
    hang_seconds: float = 1.0
    seed: int = 1
    limits: dict[str, Limit] = field(default_factory=dict)
    appid: str = "wx_fake_appid"
    secret: str = "fake_secret"
    corp_id: str = "ww_fake_corp"
    corp_secret: str = "fake_corp_secret"
    robot_keys: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.tokens: set[str] = set()
        self.token_fetches = 0
        self.calls: list[Call] = []
        self.delivered: list[tuple[str, str, str]] = []  # (api, to, text)
        self.violations: list[str] = []
        self._windows: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self._client_msg_ids: set[tuple[str, str]] = set()
        self.qr_scenes: dict[str, str] = {}  # url encoded in the QR code → scene_str

    # -- app ---------------------------------------------------------------------------------
    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/cgi-bin/token", self._token)
        app.router.add_post("/cgi-bin/stable_token", self._stable_token)
        app.router.add_get("/cgi-bin/gettoken", self._gettoken)
        app.router.add_post("/cgi-bin/qrcode/create", self._qrcode_create)
        for path in SEND_PATHS:
            app.router.add_post(path, self._send)
        return app

    def _new_token(self) -> web.Response:
        self.token_fetches += 1
        token = "tok_" + secrets.token_hex(8)
        self.tokens.add(token)
        return web.json_response({"access_token": token, "expires_in": 7200})

    async def _token(self, request: web.Request) -> web.Response:
        q = request.query
        if q.get("appid") != self.appid or q.get("secret") != self.secret:
            return web.json_response({"errcode": 40013, "errmsg": "invalid appid"})
        return self._new_token()

    async def _stable_token(self, request: web.Request) -> web.Response:
        body = await request.json()
        if body.get("appid") != self.appid or body.get("secret") != self.secret:
            return web.json_response({"errcode": 40013, "errmsg": "invalid appid"})
        return self._new_token()

    async def _gettoken(self, request: web.Request) -> web.Response:
        q = request.query
        if q.get("corpid") != self.corp_id or q.get("corpsecret") != self.corp_secret:
            return web.json_response({"errcode": 40001, "errmsg": "invalid credential"})
        return self._new_token()

    async def _qrcode_create(self, request: web.Request) -> web.Response:
        if request.query.get("access_token") not in self.tokens:
            return web.json_response({"errcode": 40001, "errmsg": "invalid credential"})
        body = await request.json()
        expire = body.get("expire_seconds")
        scene = (body.get("action_info") or {}).get("scene", {}).get("scene_str")
        if body.get("action_name") != "QR_STR_SCENE" or not isinstance(scene, str) or not 1 <= len(scene) <= 64:
            return web.json_response({"errcode": 40097, "errmsg": "invalid args"})
        if not isinstance(expire, int) or not 60 <= expire <= 2592000:
            return web.json_response({"errcode": 40097, "errmsg": "invalid expire_seconds"})
        ticket = "gQ" + secrets.token_urlsafe(24)
        url = "http://weixin.qq.com/q/" + secrets.token_urlsafe(12)
        self.qr_scenes[url] = scene
        return web.json_response({"ticket": ticket, "expire_seconds": expire, "url": url})

    def _over_limit(self, api: str, to: str, now: float) -> bool:
        lim = self.limits.get(api)
        if lim is None:
            return False
        key = (api, to if lim.per == "to" else "")
        q = self._windows[key]
        while q and q[0] <= now - lim.window:
            q.popleft()
        if len(q) >= lim.limit:
            self.violations.append(f"{api} to={to} at {now:.3f}: {len(q)} in {lim.window}s")
            return True
        q.append(now)
        return False

    async def _send(self, request: web.Request) -> web.Response:
        now = time.monotonic()
        api = SEND_PATHS[request.path]
        body: dict[str, Any] = await request.json()
        if api == "robot":
            key = request.query.get("key", "")
            to = key
            text = (body.get(body.get("msgtype", "text")) or {}).get("content", "")
            if key not in self.robot_keys:
                self.calls.append(Call(now, api, to, text, "93000"))
                return web.json_response({"errcode": 93000, "errmsg": "invalid webhook url"})
        else:
            to = str(body.get("touser", ""))
            if api == "oa_template":
                text = str(body.get("data") or {})
            else:
                text = (body.get("text") or {}).get("content", "")
            if request.query.get("access_token") not in self.tokens:
                self.calls.append(Call(now, api, to, text, "40001"))
                return web.json_response({"errcode": 40001, "errmsg": "invalid credential"})
        if self._over_limit(api, to, now):
            code = 130101 if api == "robot" else 45009
            self.calls.append(Call(now, api, to, text, "limit"))
            return web.json_response({"errcode": code, "errmsg": "api freq out of limit"})
        fault = None
        if self.fault_rate and self.rng.random() < self.fault_rate:
            choices = [f for f in self.faults if not (f == "45015" and api != "oa_custom")]
            fault = self.rng.choice(choices) if choices else None
        if fault == "timeout":
            self.calls.append(Call(now, api, to, text, "timeout"))
            await asyncio.sleep(self.hang_seconds)  # the client has given up; nothing happens
            return web.json_response({"errcode": -1, "errmsg": "system busy"})
        if fault == "token" and api != "robot":
            self.tokens.discard(request.query.get("access_token", ""))
            self.calls.append(Call(now, api, to, text, "42001"))
            return web.json_response({"errcode": 42001, "errmsg": "access_token expired"})
        if fault in ("45009", "45015"):
            self.calls.append(Call(now, api, to, text, fault))
            return web.json_response({"errcode": int(fault), "errmsg": "injected"})
        self.calls.append(Call(now, api, to, text, "ok"))
        cmid = body.get("client_msg_id")
        if api == "oa_template" and cmid:
            if (to, cmid) in self._client_msg_ids:
                return web.json_response({"errcode": 0, "errmsg": "ok", "msgid": 1})
            self._client_msg_ids.add((to, cmid))
        self.delivered.append((api, to, text))
        return web.json_response({"errcode": 0, "errmsg": "ok", "msgid": len(self.delivered)})

    # -- checks ------------------------------------------------------------------------------
    def max_in_window(self, api: str, window: float, to: str | None = None) -> int:
        """Most send calls (any outcome) that reached ``api`` within any ``window`` seconds."""
        times = sorted(c.at for c in self.calls if c.api == api and (to is None or c.to == to))
        best, j = 0, 0
        for i, t in enumerate(times):
            while times[j] <= t - window:
                j += 1
            best = max(best, i - j + 1)
        return best
