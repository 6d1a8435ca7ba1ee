"""The web chat over its real WebSocket, served by the real aiohttp app."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import ClientWebSocketResponse
from aiohttp.test_utils import TestClient, TestServer

from bot.app import Services, build_app


@pytest.fixture
async def client(services: Services) -> AsyncIterator[TestClient]:
    app = build_app(services)
    async with TestClient(TestServer(app)) as c:
        yield c


async def _recv_until(ws: ClientWebSocketResponse, pred, timeout: float = 10) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    got: list[dict[str, Any]] = []
    async with asyncio.timeout(timeout):
        while True:
            msg = json.loads((await ws.receive()).data)
            got.append(msg)
            if pred(msg, got):
                return got


def _bot_lines(got: list[dict[str, Any]]) -> list[str]:
    return [m["line"]["text"] for m in got if m["type"] == "line" and m["line"]["bot"]]


async def test_page_and_personas(client: TestClient) -> None:
    page = await client.get("/")
    body = await page.text()
    assert page.status == 200 and "沙县区零工市场" in body and "我是找活的" in body
    bad = await client.post("/api/personas", json={"name": "", "role": "worker"})
    assert bad.status == 400
    bad = await client.post("/api/personas", json={"name": "张三", "role": "boss"})
    assert bad.status == 400
    bad = await client.post("/api/personas", data=b"\xff\xfe")
    assert bad.status == 400
    made = await (await client.post("/api/personas", json={"name": "张三", "role": "worker"})).json()
    listed = await (await client.get("/api/personas")).json()
    assert [p["id"] for p in listed] == [made["id"]]
    assert (await client.get("/healthz")).status == 200


async def test_register_over_websocket(client: TestClient) -> None:
    persona = await (await client.post("/api/personas", json={"name": "老陈", "role": "worker"})).json()
    ws = await client.ws_connect("/ws")
    await ws.send_json({"type": "hello", "persona": persona["id"]})
    hello = await _recv_until(ws, lambda m, _g: m["type"] == "history")
    assert hello[-1]["chats"][persona["id"]] == []

    async def say(text: str, mid: str, needle: str) -> list[str]:
        await ws.send_json({"type": "say", "chat": persona["id"], "text": text, "id": mid})
        got = await _recv_until(ws, lambda _m, g: any(needle in t for t in _bot_lines(g)))
        return _bot_lines(got)

    assert any("同意" in t for t in await say("登记", "m1", "同意并开始"))
    await say("1", "m2", "称呼和手机号")
    # The same client id again (a resend after a reconnect) has no second effect.
    await ws.send_json({"type": "say", "chat": persona["id"], "text": "1", "id": "m2"})
    await _recv_until(ws, lambda m, _g: m["type"] == "ack" and m["id"] == "m2")
    await say("老陈 13905980000", "m3", "会做什么活")
    await ws.close()


async def test_group_room_broadcasts_and_bot_answers_mentions(client: TestClient, services: Services) -> None:
    a = await (await client.post("/api/personas", json={"name": "黄老板", "role": "employer"})).json()
    b = await (await client.post("/api/personas", json={"name": "李姐", "role": "worker"})).json()
    room = services.cfg.webchat.rooms[0].id
    wa, wb = await client.ws_connect("/ws"), await client.ws_connect("/ws")
    for ws, p in ((wa, a), (wb, b)):
        await ws.send_json({"type": "hello", "persona": p["id"]})
        await _recv_until(ws, lambda m, _g: m["type"] == "history")
    await wa.send_json({"type": "say", "chat": room, "text": "大家好", "id": "g1"})
    seen = await _recv_until(wb, lambda m, _g: m["type"] == "line" and m["line"]["text"] == "大家好")
    assert seen[-1]["line"]["name"] == "黄老板"
    await wa.send_json({"type": "say", "chat": room, "text": "@零工小助手 怎么登记", "id": "g2"})
    got = await _recv_until(wb, lambda _m, g: any("私聊" in t for t in _bot_lines(g)))
    assert any("私聊" in t for t in _bot_lines(got))


async def test_bad_frames_get_clear_errors(client: TestClient) -> None:
    ws = await client.ws_connect("/ws")
    await ws.send_str("not json")
    assert (await _recv_until(ws, lambda m, _g: True))[0]["type"] == "error"
    await ws.send_json({"type": "say", "chat": "x", "text": "hi", "id": "1"})
    assert "身份" in (await _recv_until(ws, lambda m, _g: True))[0]["text"]
    await ws.send_json({"type": "hello", "persona": "nobody"})
    assert "找不到" in (await _recv_until(ws, lambda m, _g: True))[0]["text"]
    await ws.close()


async def test_contract_pdf_link_for_parties_only(client: TestClient, services: Services) -> None:
    from market import agreement, contracts, orders
    from storage.models import Contract
    from tests.market import factory

    now = services.clock()
    market = services.engine.settings.market
    async with services.db.transaction() as s:
        boss = await factory.employer(s, "boss", now)
        w = await factory.worker(s, "w", now)
        o = await factory.order(s, boss, now)
        await orders.take(s, o.code, w, now, market.tz)
        await agreement.confirm_price(s, o.code, w, None, market, now)
    async with services.db.reader() as s:
        from sqlalchemy import select

        c = (await s.execute(select(Contract))).scalar_one()
    ok = await client.get(contracts.pdf_path(c))
    assert ok.status == 200 and ok.content_type == "application/pdf"
    assert (await ok.read()).startswith(b"%PDF")
    wrong = await client.get(f"/contracts/{c.id}/{'0' * 16}.pdf")
    assert wrong.status == 404
    missing = await client.get(f"/contracts/999/{c.sha256[:16]}.pdf")
    assert missing.status == 404
