"""The kiosk's 公众号 QR login, end to end over real HTTP: the kiosk gets a QR code made by the
(fake) 公众号 API, the person "scans" it — the simulator posts the signed SCAN / subscribe event
WeChat would send to our callback — and the kiosk that holds the ticket's secret is logged in
as that person, once."""

from __future__ import annotations

import aiohttp
from sqlalchemy import select

from bot.app import Services
from storage.models import Identity
from tests.bot.webtools import Browser
from tests.channels.conftest import (
    OA_APPID,
    OA_SECRET,
    OA_TOKEN,
    channel_config,
    running_services,
    serving,
    serving_services,
)
from tests.conftest import FakeClock
from tests.wechat_sim import OfficialAccountSim, deliver
from tests.wechat_sim.fake_api import FakeWeChatApi

ENV = {"WEBCHAT_DEMO": "0", "WEBCHAT_KIOSK": "1", "WECHAT_OA_TOKEN": OA_TOKEN, "WECHAT_OA_APPID": OA_APPID,
       "WECHAT_OA_SECRET": OA_SECRET}


async def _scan(
    http: aiohttp.ClientSession, base: str, sim: OfficialAccountSim, openid: str, event: str, key: str
) -> str:
    r = await deliver(http, base + "/wechat/oa", sim.event(openid, event, key))
    assert r.status == 200, (r.status, r.text)
    reply = sim.read_reply(r.body)
    return reply["Content"] if reply else ""


async def _ticket(kiosk: Browser, fake: FakeWeChatApi) -> str:
    res = await kiosk.post("/api/login/qr")
    assert res.status == 200, await res.text()
    body = await res.json()
    assert body["image"].startswith("data:image/svg+xml")
    assert fake.qr_scenes and list(fake.qr_scenes.values())[-1] == "login_" + body["ticket"]
    return str(body["ticket"])


async def test_scan_logs_the_kiosk_in_as_the_scanner(db_url: str, db, clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    fake = FakeWeChatApi(appid=OA_APPID, secret=OA_SECRET)
    sim = OfficialAccountSim(token=OA_TOKEN, appid=OA_APPID)
    openid = "oKiosk_000000000000000001"
    async with serving(fake.app()) as api_base:
        cfg = channel_config(db_url, **ENV, WECHAT_API_BASE=api_base)
        async with running_services(cfg, db, clock) as services, serving_services(services) as base:
            services: Services  # type: ignore[no-redef]
            async with aiohttp.ClientSession() as http, Browser(base) as kiosk, Browser(base) as onlooker:
                page = await kiosk.load()
                assert "扫一扫" in page and "微信一键登录" not in page
                ticket = await _ticket(kiosk, fake)
                assert await (await kiosk.get(f"/api/login/qr/{ticket}")).json() == {"waiting": True}

                said = await _scan(http, base, sim, openid, "SCAN", "login_" + ticket)
                assert "自助机上登录" in said
                # Someone who photographed the screen has the id, not the kiosk's secret.
                assert (await onlooker.get(f"/api/login/qr/{ticket}")).status == 404
                assert (await onlooker.post(f"/api/login/qr/{ticket}/confirm")).status == 404
                assert (await (await onlooker.get("/api/me")).json())["persona"] is None

                # The kiosk shows whose WeChat scanned and waits for 是我.
                scanned = await (await kiosk.get(f"/api/login/qr/{ticket}")).json()
                assert scanned == {"scanned": "微信用户"}
                assert (await (await kiosk.get("/api/me")).json())["persona"] is None
                res = await kiosk.post(f"/api/login/qr/{ticket}/confirm")
                assert res.status == 200, await res.text()
                persona = await res.json()
                me = (await (await kiosk.get("/api/me")).json())["persona"]
                assert me["id"] == persona["id"]
                async with services.db.reader() as s:
                    rows = (await s.execute(select(Identity.channel, Identity.user_id))).all()
                users = {u for c, u in rows if c in ("web", "wechat_oa")}
                assert len(users) == 1  # the kiosk persona is the 公众号 person
                # A ticket logs in once.
                assert (await kiosk.get(f"/api/login/qr/{ticket}")).status in (404, 410)
                assert (await kiosk.post(f"/api/login/qr/{ticket}/confirm")).status in (404, 410)

                # A new follower scanning (subscribe with qrscene_) is welcomed and logged in too.
                await kiosk.post("/api/logout")
                ticket2 = await _ticket(kiosk, fake)
                newcomer = "oKiosk_000000000000000002"
                said = await _scan(http, base, sim, newcomer, "subscribe", "qrscene_login_" + ticket2)
                assert "欢迎关注" in said and "自助机上登录" in said
                assert (await kiosk.get(f"/api/login/qr/{ticket2}")).status == 200
                assert (await kiosk.post(f"/api/login/qr/{ticket2}/confirm")).status == 200

                # An expired code: the scanner is told, the kiosk is not logged in.
                await kiosk.post("/api/logout")
                ticket3 = await _ticket(kiosk, fake)
                clock.advance(minutes=6)
                said = await _scan(http, base, sim, openid, "SCAN", "login_" + ticket3)
                assert "过期" in said
                assert (await kiosk.get(f"/api/login/qr/{ticket3}")).status == 410
                assert (await (await kiosk.get("/api/me")).json())["persona"] is None


async def test_no_qr_login_outside_the_kiosk(no_db_url: str, no_db, clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    """Nothing here reads the database: it runs once, on ``no_db``."""
    fake = FakeWeChatApi(appid=OA_APPID, secret=OA_SECRET)
    async with serving(fake.app()) as api_base:
        env = {**ENV, "WEBCHAT_KIOSK": "0", "WECHAT_API_BASE": api_base}
        cfg = channel_config(no_db_url, **env)
        async with running_services(cfg, no_db, clock) as services, serving_services(services) as base, Browser(
            base
        ) as b:
            assert "扫一扫" not in await b.load()
            assert (await b.post("/api/login/qr")).status in (404, 405)


async def test_a_bystanders_scan_is_turned_away(db_url: str, db, clock: FakeClock, make_chat) -> None:  # type: ignore[no-untyped-def]
    """Someone behind the visitor scans first: the screen names them (masked), the visitor says
    不是我, and the next code is the visitor's."""
    fake = FakeWeChatApi(appid=OA_APPID, secret=OA_SECRET)
    sim = OfficialAccountSim(token=OA_TOKEN, appid=OA_APPID)
    bystander = make_chat("oBystander_00000000000001", channel="wechat_oa", name="x")
    for text in ("登记", "1", "王建国 13959800009", "泥水工", "夏茂", "1", "300"):
        await bystander.say(text)
    async with serving(fake.app()) as api_base:
        cfg = channel_config(db_url, **ENV, WECHAT_API_BASE=api_base)
        async with (
            running_services(cfg, db, clock) as services,
            serving_services(services) as base,
            aiohttp.ClientSession() as http,
            Browser(base) as kiosk,
        ):
            ticket = await _ticket(kiosk, fake)
            await _scan(http, base, sim, bystander.user_id, "SCAN", "login_" + ticket)
            assert await (await kiosk.get(f"/api/login/qr/{ticket}")).json() == {"scanned": "王*国"}
            assert (await kiosk.post(f"/api/login/qr/{ticket}/reject")).status == 200
            assert (await kiosk.post(f"/api/login/qr/{ticket}/confirm")).status in (404, 410)
            assert (await (await kiosk.get("/api/me")).json())["persona"] is None
            await _ticket(kiosk, fake)


async def test_qr_codes_only_for_the_halls_terminals(db_url: str, db, clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    from tests.channels.conftest import with_section

    fake = FakeWeChatApi(appid=OA_APPID, secret=OA_SECRET)
    async with serving(fake.app()) as api_base:
        cfg = channel_config(db_url, **ENV, WECHAT_API_BASE=api_base)
        hall = with_section(cfg, "webchat", kiosk_networks=["10.8.0.0/24"])
        async with (
            running_services(hall, db, clock) as services,
            serving_services(services) as base,
            Browser(base) as elsewhere,  # 127.0.0.1 is not the hall's network
        ):
            res = await elsewhere.post("/api/login/qr")
            assert res.status == 403 and "自助机" in (await res.json())["error"]
            assert fake.qr_scenes == {}
        loopback = with_section(cfg, "webchat", kiosk_networks=["127.0.0.0/8"])
        async with (
            running_services(loopback, db, clock) as services,
            serving_services(services) as base,
            Browser(base) as terminal,
        ):
            assert (await terminal.post("/api/login/qr")).status == 200
