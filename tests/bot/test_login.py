"""Logging in to the web chat (login mode) over real HTTP: phone + SMS code through the real
腾讯云 / 阿里云 wire protocols against signature-checking fakes on 127.0.0.1, and WeChat web
authorisation through the fake's authorize page. A login lands in the person already known in
chat, and only there."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import func, select

from bot.app import Services, build_app, build_services
from bot.config import AppConfig, load_config
from storage.db import Database
from storage.models import Identity, LoginCode
from tests.bot.webtools import Browser, bot_lines, recv_until
from tests.conftest import ROOT, FakeClock
from tests.fakes.aliyun_sms import aliyun_sms_fake
from tests.fakes.tencent_sms import tencent_sms_fake
from tests.fakes.wechat_oauth import wechat_oauth_fake

TENCENT = {
    "SMS_PROVIDER": "tencent",
    "TENCENT_SMS_SECRET_ID": "AKIDtest0000000000000000000000000000",
    "TENCENT_SMS_SECRET_KEY": "tencent-secret-key-for-tests-only",
    "TENCENT_SMS_SDK_APP_ID": "1400000001",
    "TENCENT_SMS_SIGN_NAME": "沙县零工",
    "TENCENT_SMS_TEMPLATE_ID": "100001",
}
ALIYUN = {
    "SMS_PROVIDER": "aliyun",
    "ALIYUN_SMS_ACCESS_KEY_ID": "LTAItest00000000",
    "ALIYUN_SMS_ACCESS_KEY_SECRET": "aliyun-secret-for-tests-only",
    "ALIYUN_SMS_SIGN_NAME": "沙县零工",
    "ALIYUN_SMS_TEMPLATE_CODE": "SMS_100001",
}
PHONE = "13905981234"


def login_cfg(db_url: str, **env: str) -> AppConfig:
    return load_config(ROOT / "config.yaml", env={"DATABASE_URL": db_url, "WEBCHAT_DEMO": "0", **env})


@pytest.fixture
async def tencent() -> AsyncIterator[Any]:
    async with tencent_sms_fake(TENCENT["TENCENT_SMS_SECRET_ID"], TENCENT["TENCENT_SMS_SECRET_KEY"]) as fake:
        yield fake


@pytest.fixture
async def app_url(db_url: str, db: Database, clock: FakeClock, tencent: Any) -> AsyncIterator[tuple[str, Services]]:
    cfg = login_cfg(db_url, **TENCENT, SMS_API_BASE=tencent.url)
    services = build_services(cfg, db=db, clock=clock)
    async with TestServer(build_app(services)) as srv:
        yield str(srv.make_url("/")).rstrip("/"), services


async def _code(browser: Browser, fake: Any, phone: str = PHONE) -> str:
    res = await browser.post("/api/login/code", {"phone": phone})
    assert res.status == 200, await res.text()
    assert "****" in (await res.json())["text"]
    sent_phone, code = fake.sent[-1]
    assert sent_phone.endswith(phone[-11:])
    return str(code)


async def _login(browser: Browser, fake: Any, phone: str = PHONE) -> dict[str, Any]:
    code = await _code(browser, fake, phone)
    res = await browser.post("/api/login/verify", {"phone": phone, "code": code})
    assert res.status == 200, await res.text()
    return dict(await res.json())


_said = iter(range(1_000_000))


async def _say(ws: Any, chat: str, text: str, needle: str) -> list[str]:
    await ws.send_json({"type": "say", "chat": chat, "text": text, "id": f"m{next(_said)}"})
    return bot_lines(await recv_until(ws, lambda _m, g: any(needle in t for t in bot_lines(g))))


async def test_sms_login_comes_back_to_the_same_person(
    app_url: tuple[str, Services], tencent: Any
) -> None:
    url, _ = app_url
    async with Browser(url) as phone_browser:
        code = await _code(phone_browser, tencent)
        res = await phone_browser.post("/api/login/verify", {"phone": "139 0598 1234", "code": code})
        assert res.status == 200, await res.text()
        persona = await res.json()
        assert persona["name"] == "尾号1234"
        ws = await phone_browser.ws()
        await ws.send_json({"type": "hello"})
        await recv_until(ws, lambda m, _g: m["type"] == "history")
        for text, needle in (("登记", "同意并开始"), ("1", "称呼和手机号"), (f"刘德福 {PHONE}", "会做什么活"),
                             ("泥水工", "在哪里"), ("夏茂", "什么时候"), ("1", "最少多少钱"), ("300", "登记好了")):
            await _say(ws, persona["id"], text, needle)
        # the code is single-use
        again = await phone_browser.post("/api/login/verify", {"phone": PHONE, "code": code})
        assert again.status == 400
    async with Browser(url) as kiosk:  # another day, another device: the same person
        back = await _login(kiosk, tencent)
        assert back["id"] == persona["id"]
        ws = await kiosk.ws()
        await ws.send_json({"type": "hello"})
        await recv_until(ws, lambda m, _g: m["type"] == "history")
        assert any("泥水工" in t for t in await _say(ws, back["id"], "我的资料", "刘德福"))


async def test_a_phone_typed_in_chat_is_no_key_to_the_web(
    app_url: tuple[str, Services], tencent: Any, make_chat: Any
) -> None:
    """Someone registered in the 公众号 with another person's phone number; when that person logs in
    on the web by SMS they get an account of their own, not the impostor's."""
    url, services = app_url
    impostor = make_chat("oImpostor", channel="wechat_oa", name="冒充的")
    for text in ("登记", "1", f"刘德福 {PHONE}", "泥水工", "夏茂", "1", "300"):
        await impostor.say(text)
    async with Browser(url) as b:
        persona = await _login(b, tencent)
        assert persona["name"] == "尾号1234"
        async with services.db.reader() as s:
            stmt = select(Identity.external_id, Identity.user_id).where(
                Identity.external_id.in_(["oImpostor", persona["id"]])
            )
            users = dict((await s.execute(stmt)).all())
        assert users.get("oImpostor") != users.get(persona["id"])
        ws = await b.ws()
        await ws.send_json({"type": "hello"})
        await recv_until(ws, lambda m, _g: m["type"] == "history")
        said = await _say(ws, persona["id"], "我的资料", "登记")
        assert not any("刘德福" in t for t in said)
        # … and is told that someone registered their phone in the 公众号 (with the hotline).
        offer = await _bot_text_with(ws, persona["id"], "绑定")
        assert "有人用了您的手机号" in offer and services.cfg.service.hotline in offer


async def test_only_the_browser_that_asked_may_try_the_code(
    app_url: tuple[str, Services], tencent: Any
) -> None:
    url, _ = app_url
    async with Browser(url) as owner, Browser(url) as stranger:
        code = await _code(owner, tencent)
        for _ in range(8):  # a stranger who knows the number cannot use up the owner's tries
            res = await stranger.post("/api/login/verify", {"phone": PHONE, "code": "000000"})
            assert res.status == 400
        res = await stranger.post("/api/login/verify", {"phone": PHONE, "code": code})
        assert res.status == 400  # not even with the right code
        assert (await owner.post("/api/login/verify", {"phone": PHONE, "code": code})).status == 200


async def test_parallel_guesses_share_no_try(app_url: tuple[str, Services], tencent: Any) -> None:
    import asyncio

    url, services = app_url
    async with Browser(url) as b:
        code = await _code(b, tencent)
        wrong = "000000" if code != "000000" else "111111"
        answers = await asyncio.gather(
            *(b.post("/api/login/verify", {"phone": PHONE, "code": wrong}) for _ in range(12))
        )
        assert all(a.status in (400, 429) for a in answers)
        async with services.db.reader() as s:
            row = (await s.execute(select(LoginCode))).scalar_one()
        assert row.attempts == services.cfg.sms.max_attempts  # never more tries than allowed
        assert (await b.post("/api/login/verify", {"phone": PHONE, "code": code})).status == 400


async def test_codes_are_hashed_expire_and_allow_five_tries(
    app_url: tuple[str, Services], tencent: Any, clock: FakeClock
) -> None:
    url, services = app_url
    async with Browser(url) as b:
        code = await _code(b, tencent)
        async with services.db.reader() as s:
            row = (await s.execute(select(LoginCode))).scalar_one()
        assert code not in (row.code_hash, row.salt) and len(row.code_hash) == 64
        wrong = "000000" if code != "000000" else "111111"
        for _ in range(4):
            res = await b.post("/api/login/verify", {"phone": PHONE, "code": wrong})
            assert res.status == 400 and "不对" in (await res.json())["error"]
        res = await b.post("/api/login/verify", {"phone": PHONE, "code": wrong})
        assert res.status == 400 and "重新获取" in (await res.json())["error"]
        # the right code after five wrong tries is void
        res = await b.post("/api/login/verify", {"phone": PHONE, "code": code})
        assert res.status == 400 and (await (await b.get("/api/me")).json())["persona"] is None

        clock.advance(seconds=61)
        code = await _code(b, tencent)
        clock.advance(seconds=services.cfg.sms.code_ttl_seconds + 1)
        res = await b.post("/api/login/verify", {"phone": PHONE, "code": code})
        assert res.status == 400 and "过期" in (await res.json())["error"]


async def test_codes_rate_limited_per_phone_and_per_address(
    app_url: tuple[str, Services], tencent: Any, clock: FakeClock
) -> None:
    url, services = app_url
    async with Browser(url) as b:
        await _code(b, tencent)
        res = await b.post("/api/login/code", {"phone": PHONE})
        assert res.status == 429 and "秒后" in (await res.json())["error"]  # one a minute
        sent = len(tencent.sent)
        for _ in range(services.cfg.sms.per_phone_per_hour - 1):
            clock.advance(seconds=61)
            await _code(b, tencent)
        clock.advance(seconds=61)
        res = await b.post("/api/login/code", {"phone": PHONE})
        assert res.status == 429
        assert len(tencent.sent) == sent + services.cfg.sms.per_phone_per_hour - 1
        # per client address, whatever the phone
        clock.advance(hours=1)
        tries = services.cfg.sms.per_ip_per_hour
        statuses = []
        for i in range(tries + 1):
            res = await b.post("/api/login/verify", {"phone": f"1390598{i:04d}", "code": "123456"})
            statuses.append(res.status)
        assert statuses[-1] == 429 and 429 not in statuses[:tries]


async def test_bad_phone_and_bad_bodies(app_url: tuple[str, Services], tencent: Any) -> None:
    url, _ = app_url
    async with Browser(url) as b:
        for body in ({"phone": "12345"}, {"phone": 13905981234}, {"phone": None}, {}, {"phone": "139\u00000598"}):
            res = await b.post("/api/login/code", body)
            assert 400 <= res.status < 500, body
        assert tencent.sent == []


async def test_sms_provider_failures_are_clear(app_url: tuple[str, Services], tencent: Any) -> None:
    url, _ = app_url
    async with Browser(url) as b:
        tencent.fail_next = "InvalidParameterValue.IncorrectPhoneNumber"
        res = await b.post("/api/login/code", {"phone": PHONE})
        assert res.status == 400 and "换个号码" in (await res.json())["error"]


async def test_aliyun_sms_login(db_url: str, db: Database, clock: FakeClock) -> None:
    async with aliyun_sms_fake(ALIYUN["ALIYUN_SMS_ACCESS_KEY_ID"], ALIYUN["ALIYUN_SMS_ACCESS_KEY_SECRET"]) as fake:
        services = build_services(login_cfg(db_url, **ALIYUN, SMS_API_BASE=fake.url), db=db, clock=clock)
        async with TestServer(build_app(services)) as srv, Browser(str(srv.make_url("/")).rstrip("/")) as b:
            code = await _code(b, fake, "13800001111")
            res = await b.post("/api/login/verify", {"phone": "13800001111", "code": code})
            assert res.status == 200
            assert (await res.json())["name"] == "尾号1111"  # not registered yet: a new persona


async def test_wechat_web_authorisation_links_the_openid(
    db_url: str, db: Database, clock: FakeClock, make_chat: Any
) -> None:
    chat = make_chat("oWang" + "x" * 20, channel="wechat_oa", name="王")
    for text in ("雇主登记", "1", "王建国 13959800001", "夏茂建筑队", "夏茂"):
        await chat.say(text)
    async with wechat_oauth_fake("wxtestappid0000001", "oa-secret", user_openid=chat.user_id) as fake:
        env = {
            "WECHAT_OA_APPID": "wxtestappid0000001",
            "WECHAT_OA_SECRET": "oa-secret",
            "WECHAT_API_BASE": fake.url,
            "WECHAT_OPEN_BASE": fake.url,
        }
        services = build_services(login_cfg(db_url, **env), db=db, clock=clock)
        async with TestServer(build_app(services)) as srv:
            base = str(srv.make_url("/")).rstrip("/")
            async with Browser(base) as b:
                page = await b.load()
                assert "微信一键登录" in page
                res = await b.get("/login/wechat")  # follows the fake's authorize page back to us
                assert res.status == 200 and str(res.url).rstrip("/") == base
                me = (await (await b.get("/api/me")).json())["persona"]
                assert me["name"] == "王建国" and me["role"] == "employer"
            async with Browser(base) as forger:  # a made-up state or code gets nowhere
                res = await forger.get("/login/wechat/done?code=abc&state=xyz", allow_redirects=False)
                assert res.status == 400
                assert (await (await forger.get("/api/me")).json())["persona"] is None
        async with services.db.reader() as s:
            n = (await s.execute(select(func.count()).select_from(Identity).where(Identity.channel == "web"))).scalar()
        assert n == 1


async def test_no_provider_no_phone_login(db_url: str, db: Database, clock: FakeClock) -> None:
    services = build_services(login_cfg(db_url), db=db, clock=clock)
    async with TestServer(build_app(services)) as srv, Browser(str(srv.make_url("/")).rstrip("/")) as b:
        page = await b.load()
        assert "获取验证码" not in page and "不能在网页上登录" in page
        res = await b.post("/api/login/code", {"phone": PHONE})
        assert res.status == 503


def test_idle_defaults() -> None:
    cfg = load_config(ROOT / "config.yaml", env={"WEBCHAT_DEMO": "0"})
    assert cfg.webchat.demo is False
    assert timedelta(minutes=cfg.webchat.session_idle_minutes) >= timedelta(minutes=5)
    assert load_config(ROOT / "config.yaml", env={}).webchat.demo is True  # the shipped file: demo


async def test_group_rooms_only_for_their_members(app_url: tuple[str, Services], tencent: Any) -> None:
    url, services = app_url
    room = services.cfg.webchat.rooms[0].id
    async with Browser(url) as a, Browser(url) as b:
        for browser, phone in ((a, "13905980001"), (b, "13905980002")):
            code = await _code(browser, tencent, phone)
            assert (await browser.post("/api/login/verify", {"phone": phone, "code": code})).status == 200
        wa, wb = await a.ws(), await b.ws()
        for ws in (wa, wb):
            await ws.send_json({"type": "hello"})
            history = (await recv_until(ws, lambda m, _g: m["type"] == "history"))[-1]
            assert history["rooms"] == [] and room not in history["chats"]  # nobody is in a room yet
        await wa.send_json({"type": "join", "room": room})
        joined = (await recv_until(wa, lambda m, _g: m["type"] == "history"))[-1]
        assert joined["rooms"] == [room]
        await wa.send_json({"type": "say", "chat": room, "text": "有人吗", "id": "j1"})
        await recv_until(wa, lambda m, _g: m["type"] == "ack")
        # b is not a member: cannot post there, and gets none of its lines
        await wb.send_json({"type": "say", "chat": room, "text": "我也说", "id": "j2"})
        got = (await recv_until(wb, lambda m, _g: m["type"] in ("ack", "error")))[-1]
        assert got["type"] == "error"
        await wb.send_json({"type": "hello"})
        again = (await recv_until(wb, lambda m, _g: m["type"] == "history"))[-1]
        assert room not in again["chats"]
        await wb.send_json({"type": "join", "room": "room-nowhere"})
        assert (await recv_until(wb, lambda m, _g: m["type"] == "error"))[-1]["text"] == "没有这个群"


async def _bot_text_with(ws: Any, persona_id: str, needle: str) -> str:
    """A bot line containing ``needle`` in the person's chat: already in the history, or pushed."""
    await ws.send_json({"type": "hello"})

    def hit(m: dict[str, Any], _g: Any) -> bool:
        if m["type"] == "history":
            return any(needle in line["text"] for line in m["chats"].get(persona_id, []) if line["bot"])
        return m["type"] == "line" and m["line"]["bot"] and needle in m["line"]["text"]

    got = (await recv_until(ws, hit))[-1]
    lines = got["chats"][persona_id] if got["type"] == "history" else [got["line"]]
    return next(line["text"] for line in lines if needle in line["text"])


async def test_the_registered_person_joins_their_phone_login_with_a_code(
    app_url: tuple[str, Services], tencent: Any, make_chat: Any
) -> None:
    """刘德福 registered in the 公众号; on the web he logs in with his phone, is told how to join the
    two, types 绑定 CODE in the 公众号, and the web chat is his registration from then on."""
    import re as _re

    url, _ = app_url
    liu = make_chat("oLiu_00000000000000000001", channel="wechat_oa", name="老刘")
    for text in ("登记", "1", f"刘德福 {PHONE}", "泥水工", "夏茂", "1", "300"):
        await liu.say(text)
    stranger = make_chat("oStranger_0000000000000001", channel="wechat_oa", name="路人")
    for text in ("登记", "1", "王五 13905980099", "泥水工", "夏茂", "1", "300"):
        await stranger.say(text)
    async with Browser(url) as b:
        persona = await _login(b, tencent)
        ws = await b.ws()
        offer = await _bot_text_with(ws, persona["id"], "绑定")
        code = _re.search(r"绑定 (\d{6})", offer).group(1)  # type: ignore[union-attr]
        # Someone else in the 公众号 who learned the code cannot take the web login.
        assert "不一样" in await stranger.say(f"绑定 {code}")
        assert "绑定好了" in await liu.say(f"绑定 {code}")
        assert "不对或已过期" in await liu.say(f"绑定 {code}")  # once
        await ws.send_json({"type": "say", "chat": persona["id"], "text": "我的资料", "id": "link1"})
        got = await recv_until(ws, lambda _m, g: any("刘德福" in t for t in bot_lines(g)))
        assert any("泥水工" in t for t in bot_lines(got))
    async with Browser(url) as again:  # the next phone login is 刘德福 at once
        assert (await _login(again, tencent))["name"] == "刘德福"


async def test_link_codes_cannot_be_guessed(app_url: tuple[str, Services], make_chat: Any) -> None:
    impostor = make_chat("oGuess_0000000000000000001", channel="wechat_oa", name="猜")
    for text in ("登记", "1", f"刘德福 {PHONE}", "泥水工", "夏茂", "1", "300"):
        await impostor.say(text)
    answers = [await impostor.say(f"绑定 {n:06d}") for n in range(7)]
    assert all("不对或已过期" in a for a in answers[:5])
    assert all("试错太多次" in a for a in answers[5:])
