"""The web chat over its real WebSocket, served by the real aiohttp app (demo mode)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import WSMsgType
from aiohttp.test_utils import TestServer

from bot.app import Services, build_app
from tests.bot.webtools import Browser, bot_lines, recv_until


@pytest.fixture
async def server(services: Services) -> AsyncIterator[str]:
    async with TestServer(build_app(services)) as srv:
        yield str(srv.make_url("/")).rstrip("/")


@pytest.fixture
async def browser(server: str) -> AsyncIterator[Browser]:
    async with Browser(server) as b:
        yield b


async def test_page_and_personas(browser: Browser) -> None:
    body = await browser.load()
    assert "沙县区零工市场" in body and "我是找活的" in body
    bad = await browser.post("/api/personas", {"name": "", "role": "worker"})
    assert bad.status == 400
    bad = await browser.post("/api/personas", {"name": "张三", "role": "boss"})
    assert bad.status == 400
    bad = await browser.post("/api/personas", data=None, headers={"Content-Type": "application/json"})
    assert bad.status == 400
    raw = await browser.http.post(
        "/api/personas", data=b"\xff\xfe", headers={"X-CSRF-Token": browser.csrf, "Content-Type": "application/json"}
    )
    assert raw.status == 400
    made = await browser.persona("张三")
    listed = await (await browser.get("/api/personas")).json()
    assert [p["id"] for p in listed] == [made["id"]]
    me = await (await browser.get("/api/me")).json()
    assert me["persona"]["id"] == made["id"] and me["mode"] == "demo"
    assert (await browser.get("/healthz")).status == 200


async def test_register_over_websocket(browser: Browser) -> None:
    persona = await browser.persona("老陈")
    ws = await browser.ws()
    await ws.send_json({"type": "hello"})
    hello = await recv_until(ws, lambda m, _g: m["type"] == "history")
    assert hello[-1]["chats"][persona["id"]] == []

    async def say(text: str, mid: str, needle: str) -> list[str]:
        await ws.send_json({"type": "say", "chat": persona["id"], "text": text, "id": mid})
        got = await recv_until(ws, lambda _m, g: any(needle in t for t in bot_lines(g)))
        return bot_lines(got)

    assert any("同意" in t for t in await say("登记", "m1", "同意并开始"))
    await say("1", "m2", "称呼和手机号")
    # The same client id again (a resend after a reconnect) has no second effect.
    await ws.send_json({"type": "say", "chat": persona["id"], "text": "1", "id": "m2"})
    await recv_until(ws, lambda m, _g: m["type"] == "ack" and m["id"] == "m2")
    await say("老陈 13905980000", "m3", "会做什么活")
    await ws.close()


async def test_group_room_broadcasts_and_bot_answers_mentions(server: str, services: Services) -> None:
    room = services.cfg.webchat.rooms[0].id
    async with Browser(server) as ba, Browser(server) as bb:
        await ba.persona("黄老板", "employer")
        await bb.persona("李姐", "worker")
        wa, wb = await ba.ws(), await bb.ws()
        for ws in (wa, wb):
            await ws.send_json({"type": "hello"})
            got = await recv_until(ws, lambda m, _g: m["type"] == "history")
            assert room in got[-1]["rooms"]  # demo personas are in every room
        await wa.send_json({"type": "say", "chat": room, "text": "大家好", "id": "g1"})
        seen = await recv_until(wb, lambda m, _g: m["type"] == "line" and m["line"]["text"] == "大家好")
        assert seen[-1]["line"]["name"] == "黄老板"
        await wa.send_json({"type": "say", "chat": room, "text": "@零工小助手 怎么登记", "id": "g2"})
        got = await recv_until(wb, lambda _m, g: any("私聊" in t for t in bot_lines(g)))
        assert any("私聊" in t for t in bot_lines(got))


async def test_bad_frames_get_clear_errors(browser: Browser) -> None:
    await browser.persona("老李")
    ws = await browser.ws()
    await ws.send_str("not json")
    assert (await recv_until(ws, lambda m, _g: True))[0]["type"] == "error"
    await ws.send_json({"type": "say", "chat": "x", "text": "hi", "id": "1"})
    assert "没有这个聊天" in (await recv_until(ws, lambda m, _g: True))[0]["text"]
    await ws.send_json({"type": "say", "chat": 5, "text": ["hi"], "id": None})
    assert (await recv_until(ws, lambda m, _g: True))[0]["type"] == "error"
    await ws.send_str("[" * 20_000 + "]" * 20_000)  # deep nesting: refused before parsing
    assert (await recv_until(ws, lambda m, _g: True))[0]["type"] == "error"
    await ws.send_str('{"type": "say", "chat": "x", "text": "\\ud800", "id": "2"}')
    assert (await recv_until(ws, lambda m, _g: True))[0]["type"] == "error"
    await ws.send_str("x" * 100_000)  # over the frame limit: the socket is closed, not the server
    assert (await ws.receive()).type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.CLOSING)
    again = await browser.ws()
    await again.send_json({"type": "hello"})
    assert (await recv_until(again, lambda m, _g: m["type"] == "history"))[-1]["type"] == "history"


async def test_contract_pdf_link_for_parties_only(browser: Browser, services: Services) -> None:
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
    ok = await browser.get(contracts.pdf_path(c))
    assert ok.status == 200 and ok.content_type == "application/pdf"
    assert (await ok.read()).startswith(b"%PDF")
    assert len(c.link_token) >= 22 and c.link_token not in c.text and c.link_token not in c.sha256
    for wrong in (
        f"/contracts/{c.id}/{c.sha256[:16]}.pdf",  # the old link shape: derived from the text
        f"/contracts/{c.id}/{'A' * 22}.pdf",
        f"/contracts/999/{c.link_token}.pdf",
    ):
        assert (await browser.get(wrong)).status == 404, wrong
