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
                assert (await (await onlooker.get("/api/me")).json())["persona"] is None

                res = await kiosk.get(f"/api/login/qr/{ticket}")
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

                # A new follower scanning (subscribe with qrscene_) is welcomed and logged in too.
                await kiosk.post("/api/logout")
                ticket2 = await _ticket(kiosk, fake)
                newcomer = "oKiosk_000000000000000002"
                said = await _scan(http, base, sim, newcomer, "subscribe", "qrscene_login_" + ticket2)
                assert "欢迎关注" in said and "自助机上登录" in said
                assert (await kiosk.get(f"/api/login/qr/{ticket2}")).status == 200

                # An expired code: the scanner is told, the kiosk is not logged in.
                await kiosk.post("/api/logout")
                ticket3 = await _ticket(kiosk, fake)
                clock.advance(minutes=6)
                said = await _scan(http, base, sim, openid, "SCAN", "login_" + ticket3)
                assert "过期" in said
                assert (await kiosk.get(f"/api/login/qr/{ticket3}")).status == 410
                assert (await (await kiosk.get("/api/me")).json())["persona"] is None


async def test_no_qr_login_outside_the_kiosk(db_url: str, db, clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    fake = FakeWeChatApi(appid=OA_APPID, secret=OA_SECRET)
    async with serving(fake.app()) as api_base:
        env = {**ENV, "WEBCHAT_KIOSK": "0", "WECHAT_API_BASE": api_base}
        cfg = channel_config(db_url, **env)
        async with running_services(cfg, db, clock) as services, serving_services(services) as base, Browser(
            base
        ) as b:
            assert "扫一扫" not in await b.load()
            assert (await b.post("/api/login/qr")).status in (404, 405)
