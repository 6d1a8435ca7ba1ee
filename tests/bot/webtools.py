"""A browser's side of the web chat's doors, for tests over real HTTP and WebSocket: the CSRF
token of a page load, JSON posts that carry it, and WebSockets that name the page's origin."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

from aiohttp import ClientResponse, ClientSession, ClientWebSocketResponse, CookieJar

_CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')


class Browser:
    """One browser (one cookie jar) talking to a test server at ``base`` (http://127.0.0.1:port)."""

    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")
        self.http = ClientSession(base_url=self.base, cookie_jar=CookieJar(unsafe=True))
        self.csrf = ""

    async def __aenter__(self) -> Browser:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.http.close()

    @property
    def origin(self) -> str:
        return self.base

    async def get(self, url: str, **kw: Any) -> ClientResponse:
        return await self.http.get(url, **kw)

    async def load(self) -> str:
        page = await self.http.get("/")
        html = await page.text()
        found = _CSRF.search(html)
        assert found, "the page carries no CSRF token"
        self.csrf = found.group(1)
        return html

    async def post(self, url: str, data: Any = None, **kw: Any) -> ClientResponse:
        if not self.csrf:
            await self.load()
        headers = {"X-CSRF-Token": self.csrf, **kw.pop("headers", {})}
        return await self.http.post(url, json={} if data is None else data, headers=headers, **kw)

    async def persona(self, name: str, role: str = "worker") -> dict[str, Any]:
        """Demo mode: create a persona (which logs this browser in as it)."""
        res = await self.post("/api/personas", {"name": name, "role": role})
        assert res.status == 200, await res.text()
        return dict(await res.json())

    async def ws(self, **kw: Any) -> ClientWebSocketResponse:
        kw.setdefault("origin", self.origin)
        return await self.http.ws_connect("/ws", **kw)


async def recv_until(ws: ClientWebSocketResponse, pred, wait: float = 10) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    got: list[dict[str, Any]] = []
    async with asyncio.timeout(wait):
        while True:
            msg = json.loads((await ws.receive()).data)
            got.append(msg)
            if pred(msg, got):
                return got


def bot_lines(got: list[dict[str, Any]]) -> list[str]:
    return [m["line"]["text"] for m in got if m["type"] == "line" and m["line"]["bot"]]
