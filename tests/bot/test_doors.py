"""Trust at the web chat's doors, probed the way an attacker would over real HTTP and WebSocket:
who may read and act for whom, in demo mode, login mode and kiosk mode."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from aiohttp import WSServerHandshakeError
from aiohttp.test_utils import TestServer

from bot.app import Services, build_app, build_services
from bot.config import AppConfig
from storage.db import Database
from tests.bot.webtools import Browser, bot_lines, recv_until
from tests.conftest import FakeClock


def with_webchat(cfg: AppConfig, **changes: object) -> AppConfig:
    return cfg.model_copy(update={"webchat": cfg.webchat.model_copy(update=changes)})


@pytest.fixture
async def demo(cfg: AppConfig, db: Database, clock: FakeClock) -> AsyncIterator[tuple[str, Services]]:
    services = build_services(with_webchat(cfg, demo=True), db=db, clock=clock)
    async with TestServer(build_app(services)) as srv:
        yield str(srv.make_url("/")).rstrip("/"), services


@pytest.fixture
async def login_mode(cfg: AppConfig, db: Database, clock: FakeClock) -> AsyncIterator[tuple[str, Services]]:
    services = build_services(with_webchat(cfg, demo=False), db=db, clock=clock)
    async with TestServer(build_app(services)) as srv:
        yield str(srv.make_url("/")).rstrip("/"), services


@pytest.fixture
async def kiosk(cfg: AppConfig, db: Database, clock: FakeClock) -> AsyncIterator[tuple[str, Services]]:
    services = build_services(with_webchat(cfg, demo=True, kiosk=True), db=db, clock=clock)
    async with TestServer(build_app(services)) as srv:
        yield str(srv.make_url("/")).rstrip("/"), services


async def _history(ws) -> dict:  # type: ignore[no-untyped-def]
    await ws.send_json({"type": "hello", "persona": "ignored"})
    return (await recv_until(ws, lambda m, _g: m["type"] in ("history", "bye")))[-1]


# --- login mode: nobody gets in without logging in ---------------------------------------------
async def test_login_mode_has_no_persona_list_and_no_creation(login_mode: tuple[str, Services]) -> None:
    url, _ = login_mode
    async with Browser(url) as b:
        page = await b.load()
        assert "请先登录" in page and "我是找活的" not in page and "new-persona" not in page
        assert (await b.get("/api/personas")).status in (404, 405)
        assert (await b.post("/api/personas", {"name": "坏人", "role": "worker"})).status in (404, 405)
        assert (await b.post("/api/personas/p-demo-w1/enter")).status in (404, 405)
        me = await (await b.get("/api/me")).json()
        assert me == {"mode": "login", "kiosk": False, "persona": None}


async def test_login_mode_websocket_refused_without_session(login_mode: tuple[str, Services]) -> None:
    """Knowing a person's id is not enough: no session, no socket, nothing sent."""
    url, srv_services = login_mode
    from bot.demo import load_demo

    await load_demo(srv_services.db, srv_services.clock(), srv_services.cfg.service.tz)
    async with Browser(url) as b:
        await b.load()
        with pytest.raises(WSServerHandshakeError) as err:
            await b.ws()
        assert err.value.status == 401


async def test_someone_elses_cookie_value_is_not_a_session(login_mode: tuple[str, Services]) -> None:
    url, _ = login_mode
    async with Browser(url) as b:
        b.http.cookie_jar.update_cookies({"lg_sid": "p-demo-w1"})
        with pytest.raises(WSServerHandshakeError) as err:
            await b.ws()
        assert err.value.status == 401
        assert (await (await b.get("/api/me")).json())["persona"] is None


# --- demo mode: picking a persona is logging in as it ------------------------------------------
async def test_demo_hello_with_another_id_serves_only_ones_own_chat(demo: tuple[str, Services]) -> None:
    url, _ = demo
    async with Browser(url) as alice, Browser(url) as mallory:
        a = await alice.persona("刘阿姨")
        wa = await alice.ws()
        await _history(wa)
        await wa.send_json({"type": "say", "chat": a["id"], "text": "登记", "id": "a1"})
        await recv_until(wa, lambda _m, g: any("同意" in t for t in bot_lines(g)))

        m = await mallory.persona("路人")
        wm = await mallory.ws()
        await wm.send_json({"type": "hello", "persona": a["id"]})  # asks for Alice's chat
        got = (await recv_until(wm, lambda x, _g: x["type"] == "history"))[-1]
        assert got["persona"]["id"] == m["id"] and a["id"] not in got["chats"]
        # … and cannot speak in it either
        await wm.send_json({"type": "say", "chat": a["id"], "text": "删除", "id": "m1"})
        err = (await recv_until(wm, lambda x, _g: x["type"] in ("error", "ack")))[-1]
        assert err["type"] == "error"


async def test_demo_websocket_needs_a_picked_persona(demo: tuple[str, Services]) -> None:
    url, _ = demo
    async with Browser(url) as b:
        await b.load()
        with pytest.raises(WSServerHandshakeError) as err:
            await b.ws()
        assert err.value.status == 401


async def test_logout_ends_the_session_everywhere(demo: tuple[str, Services]) -> None:
    url, _ = demo
    async with Browser(url) as b:
        await b.persona("老周")
        ws = await b.ws()
        await _history(ws)
        assert (await b.post("/api/logout")).status == 200
        await ws.send_json({"type": "say", "chat": "x", "text": "hi", "id": "z1"})
        got = (await recv_until(ws, lambda m, _g: m["type"] in ("bye", "error", "ack")))[-1]
        assert got["type"] == "bye"
        assert (await (await b.get("/api/me")).json())["persona"] is None


async def test_an_open_socket_closes_when_its_session_ends(
    demo: tuple[str, Services], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing sent after logout: the socket is closed without waiting for the browser to speak."""
    import bot.adapters.webchat as webchat

    monkeypatch.setattr(webchat, "SESSION_CHECK_SECONDS", 0.2)
    url, _ = demo
    async with Browser(url) as b, Browser(url) as other_tab:
        await b.persona("老林")
        other_tab.http.cookie_jar.update_cookies({c.key: c.value for c in b.http.cookie_jar})
        ws = await b.ws()
        await _history(ws)
        assert (await other_tab.post("/api/logout")).status == 200  # e.g. 退出 in another tab
        got = await recv_until(ws, lambda m, _g: m["type"] == "bye", wait=5)
        assert got[-1]["type"] == "bye"
        assert (await ws.receive()).type.name in ("CLOSE", "CLOSED", "CLOSING")


async def test_session_idle_timeout(demo: tuple[str, Services], clock: FakeClock) -> None:
    url, services = demo
    async with Browser(url) as b:
        await b.persona("老吴")
        assert (await (await b.get("/api/me")).json())["persona"] is not None
        clock.advance(minutes=services.cfg.webchat.session_idle_minutes - 1)
        assert (await (await b.get("/api/me")).json())["persona"] is not None  # activity moves it
        clock.advance(minutes=services.cfg.webchat.session_idle_minutes + 1)
        assert (await (await b.get("/api/me")).json())["persona"] is None


# --- cross-site requests ------------------------------------------------------------------------
async def test_cross_site_posts_and_sockets_refused(demo: tuple[str, Services]) -> None:
    url, _ = demo
    async with Browser(url) as b:
        await b.load()
        # a form on another site: text/plain, no token
        plain = await b.http.post(
            "/api/personas", data='{"name": "x", "role": "worker"}', headers={"Content-Type": "text/plain"}
        )
        assert plain.status == 403
        # the right token but the wrong Origin
        evil = await b.post("/api/personas", {"name": "x", "role": "worker"}, headers={"Origin": "https://evil.example"})
        assert evil.status == 403
        # a token that is not this browser's
        forged = await b.http.post(
            "/api/personas", json={"name": "x", "role": "worker"}, headers={"X-CSRF-Token": "x" * 32}
        )
        assert forged.status == 403
        # JSON only, even with the token
        form = await b.http.post(
            "/api/personas",
            data={"name": "x", "role": "worker"},
            headers={"X-CSRF-Token": b.csrf},
        )
        assert form.status == 415
        assert (await b.get("/api/personas")).status == 200
        assert await (await b.get("/api/personas")).json() == []  # nothing was created

        await b.persona("老郑")
        with pytest.raises(WSServerHandshakeError) as err:
            await b.ws(origin="https://evil.example")
        assert err.value.status == 403
        with pytest.raises(WSServerHandshakeError) as err:
            await b.http.ws_connect("/ws")  # no Origin at all
        assert err.value.status == 403
        ok = await b.ws()
        assert (await _history(ok))["type"] == "history"


async def test_configured_origin_allowed(cfg: AppConfig, db: Database, clock: FakeClock) -> None:
    services = build_services(
        with_webchat(cfg, demo=True, allowed_origins=("https://kiosk.example",)), db=db, clock=clock
    )
    async with TestServer(build_app(services)) as srv, Browser(str(srv.make_url("/")).rstrip("/")) as b:
        await b.persona("老钱")
        ws = await b.ws(origin="https://kiosk.example")
        assert (await _history(ws))["type"] == "history"


async def test_security_headers_on_every_page(demo: tuple[str, Services]) -> None:
    url, _ = demo
    async with Browser(url) as b:
        for path in ("/", "/api/me", "/static/chat.js", "/no-such-page"):
            res = await b.get(path)
            csp = res.headers.get("Content-Security-Policy", "")
            assert "script-src 'self'" in csp and "unsafe-inline" not in csp, path
            assert "frame-ancestors 'none'" in csp, path
            assert res.headers.get("X-Frame-Options") == "DENY", path
            assert res.headers.get("X-Content-Type-Options") == "nosniff", path
            assert res.headers.get("Referrer-Policy") == "no-referrer", path
        page = await b.load()
        assert "<script>" not in page  # no inline script: the CSP would block it
        cookie = next(c for c in b.http.cookie_jar if c.key == "lg_csrf")
        assert cookie["samesite"] == "Strict"
        await b.persona("老孙")
        sid = next(c for c in b.http.cookie_jar if c.key == "lg_sid")
        assert sid["httponly"] and sid["samesite"] == "Lax"


async def test_session_cookie_secure_behind_https_proxy(cfg: AppConfig, db: Database, clock: FakeClock) -> None:
    services = build_services(with_webchat(cfg, demo=True, trust_proxy=True), db=db, clock=clock)
    async with TestServer(build_app(services)) as srv, Browser(str(srv.make_url("/")).rstrip("/")) as b:
        await b.load()
        res = await b.post(
            "/api/personas", {"name": "老冯", "role": "worker"}, headers={"X-Forwarded-Proto": "https"}
        )
        assert res.status == 200, await res.text()
        raw = res.headers.getall("Set-Cookie")
        assert any(h.startswith("lg_sid=") and "Secure" in h and "HttpOnly" in h for h in raw), raw


# --- names and limits ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name", ["零工小助手", "零工 小助手", "零\u200b工小助手", "客服", "官方客服小王", "客\u200d服", "ＡＤＭＩＮ"]
)
async def test_names_that_imitate_the_bot_or_staff_refused(demo: tuple[str, Services], name: str) -> None:
    url, _ = demo
    async with Browser(url) as b:
        res = await b.post("/api/personas", {"name": name, "role": "worker"})
        assert res.status == 400 and "换一个" in (await res.json())["error"]


async def test_persona_creation_rate_limited(demo: tuple[str, Services]) -> None:
    url, services = demo
    limit = services.cfg.webchat.personas_per_hour
    async with Browser(url) as b:
        for i in range(limit):
            assert (await b.post("/api/personas", {"name": f"试用{i}", "role": "worker"})).status == 200
        res = await b.post("/api/personas", {"name": "再来一个", "role": "worker"})
        assert res.status == 429
        assert len(await (await b.get("/api/personas")).json()) == limit


async def test_messages_per_person_rate_limited(cfg: AppConfig, db: Database, clock: FakeClock) -> None:
    services = build_services(with_webchat(cfg, demo=True, messages_per_minute=4), db=db, clock=clock)
    async with TestServer(build_app(services)) as srv, Browser(str(srv.make_url("/")).rstrip("/")) as b:
        p = await b.persona("老陶")
        ws = await b.ws()
        await _history(ws)  # every frame counts: the hello is one of the four
        answers = []
        for i in range(5):
            await ws.send_json({"type": "say", "chat": p["id"], "text": "帮助", "id": f"r{i}"})
            answers.append((await recv_until(ws, lambda m, _g: m["type"] in ("ack", "error")))[-1])
        assert [a["type"] for a in answers] == ["ack", "ack", "ack", "error", "error"]
        assert "慢一点" in answers[-1]["text"]


# --- kiosk --------------------------------------------------------------------------------------
async def test_kiosk_forgets_the_previous_visitor(kiosk: tuple[str, Services], clock: FakeClock) -> None:
    url, services = kiosk
    async with Browser(url) as terminal:
        first = await terminal.persona("前一位")
        me = await (await terminal.get("/api/me")).json()
        assert me["persona"]["id"] == first["id"] and me["kiosk"] is True
        sid = next(c for c in terminal.http.cookie_jar if c.key == "lg_sid")
        assert not sid["max-age"] and not sid["expires"]  # dies with the browser session
        # The page opened again (next visitor): the previous person is gone.
        await terminal.load()
        assert (await (await terminal.get("/api/me")).json())["persona"] is None

        # Idle past the kiosk limit: logged out.
        await terminal.persona("第二位")
        clock.advance(seconds=services.cfg.webchat.kiosk_idle_seconds + 1)
        assert (await (await terminal.get("/api/me")).json())["persona"] is None

        # 结束 ends the session at once.
        p = await terminal.persona("第三位")
        ws = await terminal.ws()
        await _history(ws)
        await ws.send_json({"type": "say", "chat": p["id"], "text": "结束", "id": "k1"})
        got = (await recv_until(ws, lambda m, _g: m["type"] in ("bye", "ack")))[-1]
        assert got["type"] == "bye"
        assert (await (await terminal.get("/api/me")).json())["persona"] is None


async def test_kiosk_idle_is_short_even_if_session_idle_is_long(kiosk: tuple[str, Services]) -> None:
    _, services = kiosk
    assert services.webchat.idle == timedelta(seconds=services.cfg.webchat.kiosk_idle_seconds)


async def test_ended_sessions_and_old_counters_are_purged(demo: tuple[str, Services], clock: FakeClock) -> None:
    from sqlalchemy import func, select

    from bot.jobs import purge_doors
    from storage.models import RateCounter, WebSession

    url, services = demo
    async with Browser(url) as b:
        await b.persona("老何")
        await b.post("/api/logout")
        await b.persona("老贺")  # still logged in
    clock.advance(days=2)
    async with services.db.transaction() as s:
        said = await purge_doors(s, None, clock.now - timedelta(days=2, seconds=-1))
        assert said.startswith("0 session(s)")  # the logout is less than a day old
        said = await purge_doors(s, None, clock.now)
    assert said.startswith("1 session(s)"), said
    async with services.db.reader() as s:
        assert await s.scalar(select(func.count()).select_from(WebSession)) == 1
        assert await s.scalar(select(func.count()).select_from(RateCounter)) == 0


async def test_demo_never_offers_a_real_person(demo: tuple[str, Services], clock: FakeClock) -> None:
    """Should demo mode be switched on where people have logged in: a persona that logged in by
    phone, or whose person is known on the 公众号, is neither listed nor enterable."""
    from storage.repositories import UserRepository, WebChatRepository

    url, services = demo
    async with services.db.transaction() as s:
        web_repo, users = WebChatRepository(s), UserRepository(s)
        await web_repo.add_persona("p-phone", "尾号1234", "worker", clock.now, phone="13905981234")
        await web_repo.add_persona("p-wechat", "微信用户", "worker", clock.now)
        user = await users.get_or_create("wechat_oa", "oReal", "", clock.now)
        await users.link(user.id, "web", "p-wechat", clock.now)
        await web_repo.add_persona("p-demo", "试用", "worker", clock.now)
        demo_user = await users.get_or_create("web", "p-demo", "试用", clock.now)
        assert demo_user.id != user.id
    async with Browser(url) as b:
        listed = [p["id"] for p in await (await b.get("/api/personas")).json()]
        assert listed == ["p-demo"]
        for real in ("p-phone", "p-wechat"):
            assert (await b.post(f"/api/personas/{real}/enter")).status == 404
        assert (await b.post("/api/personas/p-demo/enter")).status == 200


async def test_bytes_that_are_not_utf8_in_cookies_and_headers_are_no_500(demo: tuple[str, Services]) -> None:
    import asyncio
    from urllib.parse import urlsplit

    url, _ = demo
    host, port = urlsplit(url).hostname, urlsplit(url).port

    async def raw(request: bytes) -> int:
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(request)
        await writer.drain()
        status = int((await reader.readline()).split()[1])
        writer.close()
        return status

    bad = b"\xff\xfe\xc3"
    assert await raw(b"GET /api/me HTTP/1.1\r\nHost: x\r\nCookie: lg_sid=" + bad + b"\r\nConnection: close\r\n\r\n") == 200
    assert await raw(b"GET / HTTP/1.1\r\nHost: x\r\nCookie: lg_csrf=" + bad + b"\r\nConnection: close\r\n\r\n") == 200
    body = b'{"name": "x", "role": "worker"}'
    post = (
        b"POST /api/personas HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nCookie: lg_csrf="
        + b"a" * 32 + b"\r\nX-CSRF-Token: " + bad + b"\r\nContent-Length: " + str(len(body)).encode()
        + b"\r\nConnection: close\r\n\r\n" + body
    )
    assert await raw(post) == 403
    qr = b"GET /api/login/qr/abcdefabcdefabcdef HTTP/1.1\r\nHost: x\r\nCookie: lg_qr=" + bad + b"\r\nConnection: close\r\n\r\n"
    assert await raw(qr) == 404  # no such route in demo mode, and no crash either
