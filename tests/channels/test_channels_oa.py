"""The 公众号 callback of the real app (bot.adapters.wechat_oa), driven over HTTP on loopback by
the independent WeChat-server simulator (tests/wechat_sim: hashlib + cryptography, no wechatpy),
against the real dialog engine and outbox on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.app import Services
from storage.models import Identity, InboundRecord, OutboxRow, WorkerProfile
from tests.channels.conftest import (
    AES_KEY,
    OA_APPID,
    OA_SECRET,
    OA_TOKEN,
    channel_config,
    running_services,
    serving,
    serving_services,
    with_section,
)
from tests.wechat_sim import OfficialAccountSim, deliver, payloads
from tests.wechat_sim.fake_api import FakeWeChatApi

PATH = "/wechat/oa"


def oa_env(**extra: str) -> dict[str, str]:
    return {"WECHAT_OA_TOKEN": OA_TOKEN, "WECHAT_OA_APPID": OA_APPID, **extra}


async def count(services: Services, model, **where) -> int:  # type: ignore[no-untyped-def]
    async with services.db.reader() as s:
        stmt = select(func.count()).select_from(model)
        for k, v in where.items():
            stmt = stmt.where(getattr(model, k) == v)
        return int(await s.scalar(stmt) or 0)


class Person:
    """One WeChat user talking to the 公众号 through the simulator."""

    def __init__(
        self, http: aiohttp.ClientSession, base: str, sim: OfficialAccountSim, openid: str
    ):
        self.http, self.url, self.sim, self.openid = http, base + PATH, sim, openid

    async def send(self, req) -> str:  # type: ignore[no-untyped-def]
        r = await deliver(self.http, self.url, req)
        assert r.status == 200, (r.status, r.text)
        reply = self.sim.read_reply(r.body)  # verifies and decrypts like WeChat would
        if reply is None:
            return ""
        assert reply["ToUserName"] == self.openid
        assert reply["FromUserName"] == self.sim.account_id
        assert reply["MsgType"] == "text"
        return reply["Content"]

    async def say(self, text: str) -> str:
        return await self.send(self.sim.text(self.openid, text))


async def test_url_verification_and_bad_signatures_have_no_effect(db_url, db, clock) -> None:
    cfg = channel_config(db_url, **oa_env())
    sim = OfficialAccountSim(token=OA_TOKEN, appid=OA_APPID)
    async with running_services(cfg, db, clock) as services, serving_services(services) as base:
        async with aiohttp.ClientSession() as http:
            req, echo = sim.verification()
            r = await deliver(http, base + PATH, req)
            assert (r.status, r.text) == (200, echo)
            r = await deliver(http, base + PATH, sim.with_bad_signature(req))
            assert r.status == 403
            stale, _ = sim.verification(timestamp=int(time.time()) - 3600)
            assert (await deliver(http, base + PATH, stale)).status == 403
            # a message with a wrong signature: 403, nothing recorded, nothing queued
            bad = sim.with_bad_signature(sim.text("o_worker", "登记"))
            assert (await deliver(http, base + PATH, bad)).status == 403
            assert (await deliver(http, base + PATH, bad.with_params(signature=""))).status == 403
    assert await count(services, InboundRecord) == 0
    assert await count(services, OutboxRow) == 0


@pytest.mark.parametrize("safe_mode", [False, True], ids=["plaintext", "aes"])
async def test_worker_registers_by_chat(db_url, db, clock, safe_mode) -> None:
    env = oa_env(WECHAT_OA_AES_KEY=AES_KEY) if safe_mode else oa_env()
    cfg = channel_config(db_url, **env)
    sim = OfficialAccountSim(
        token=OA_TOKEN, appid=OA_APPID, encoding_aes_key=AES_KEY, safe_mode=safe_mode
    )
    async with running_services(cfg, db, clock) as services, serving_services(services) as base:
        async with aiohttp.ClientSession() as http:
            me = Person(http, base, sim, "oWorker_Zhang_000000000001")
            assert "回 1 同意并开始" in await me.say("登记")
            assert "称呼和手机号" in await me.say("1")
            assert "会做什么活" in await me.say("张师傅 139 0598 1234")
            assert "在哪里干活" in await me.say("泥水工，贴砖")
            assert "什么时候能干活" in await me.say("夏茂、高砂")
            assert "最少多少钱" in await me.say("1")
            done = await me.say("两百")
            assert "登记好了" in done and "13905981234" in done
            if safe_mode:  # a wrong msg_signature is refused and changes nothing
                bad = sim.with_bad_signature(sim.text(me.openid, "我的资料"))
                assert (await deliver(http, base + PATH, bad)).status == 403
    async with services.db.reader() as s:
        [w] = (await s.execute(select(WorkerProfile))).scalars().all()
        ident = (await s.execute(select(Identity))).scalar_one()
    assert (w.name, w.phone, w.trades, w.towns) == (
        "张师傅",
        "13905981234",
        ["mason", "tiler"],
        ["夏茂镇", "高砂镇"],
    )
    assert (ident.channel, ident.external_id) == ("wechat_oa", me.openid)
    # every answer went out in the passive reply: nothing left for the 客服消息 API
    assert await count(services, InboundRecord) == 7
    assert await count(services, OutboxRow, status="queued") == 0
    assert await count(services, OutboxRow, status="sent") >= 7


async def test_voice_events_and_other_media(db_url, db, clock) -> None:
    cfg = channel_config(db_url, **oa_env())
    sim = OfficialAccountSim(token=OA_TOKEN, appid=OA_APPID)
    async with running_services(cfg, db, clock) as services, serving_services(services) as base:
        async with aiohttp.ClientSession() as http:
            p = Person(http, base, sim, "oVoice_0000000000000000001")
            # voice with WeChat's speech recognition: handled like typed text
            assert "怎么用" in await p.send(sim.voice(p.openid, "帮助。"))
            # voice without Recognition: a kind request to type or visit the hall
            said = await p.send(sim.voice(p.openid, None))
            assert "打字" in said and "零工驿站" in said
            # an image: same kind of answer
            img = sim.message(
                "<xml><ToUserName><![CDATA[gh_shaxian0001]]></ToUserName>"
                f"<FromUserName><![CDATA[{p.openid}]]></FromUserName><CreateTime>1764115200</CreateTime>"
                "<MsgType><![CDATA[image]]></MsgType><PicUrl><![CDATA[http://x/1.jpg]]></PicUrl>"
                "<MediaId><![CDATA[m1]]></MediaId><MsgId>777000001</MsgId></xml>",
                p.openid,
            )
            assert "只看得懂文字" in await p.send(img)

            # subscribe: welcome, then the menu; the same event retried has one effect
            new = Person(http, base, sim, "oNew_00000000000000000001")
            ev = sim.event(new.openid, "subscribe", create_time=1764115300)
            first = await new.send(ev)
            assert first.startswith("欢迎关注沙县区零工市场") and "1 我要找活" in first
            # WeChat's retry (signed afresh): same answer, no second effect
            assert await new.send(ev.retry()) == first
            # a QR code for workers starts registration straight away
            qr = Person(http, base, sim, "oQr_000000000000000000001")
            got = await qr.send(
                sim.event(qr.openid, "subscribe", "qrscene_worker", create_time=1764115301)
            )
            assert "欢迎关注" in got and "回 1 同意并开始" in got
            # menu clicks are commands
            assert "怎么用" in await new.send(
                sim.event(new.openid, "CLICK", "HELP", create_time=1764115302)
            )
            assert (
                await new.send(sim.event(new.openid, "VIEW", "http://x", create_time=1764115303))
                == ""
            )
            # unsubscribe: no answer, and nothing queued for that person is sent any more
            async with services.db.transaction() as s:
                from storage.repositories import OutboxRepository

                await OutboxRepository(s).enqueue(
                    channel="wechat_oa",
                    chat_id=new.openid,
                    text="明天的活",
                    idempotency_key="t:1",
                    now=clock(),
                )
            assert (
                await new.send(sim.event(new.openid, "unsubscribe", create_time=1764115304)) == ""
            )
    assert await count(services, OutboxRow, status="dead", chat_id=new.openid) == 1
    assert (
        await count(services, InboundRecord, chat_id=new.openid) == 3
    )  # subscribe, CLICK, unsubscribe


async def test_hostile_xml_rejected_quickly_without_effect(db_url, db, clock) -> None:
    # 兼容模式, so that plaintext bodies reach the XML parser beside safe-mode ones
    cfg = channel_config(db_url, **oa_env(WECHAT_OA_AES_KEY=AES_KEY, WECHAT_OA_COMPAT_MODE="1"))
    plain = OfficialAccountSim(token=OA_TOKEN, appid=OA_APPID)
    safe = OfficialAccountSim(
        token=OA_TOKEN, appid=OA_APPID, encoding_aes_key=AES_KEY, safe_mode=True
    )
    async with running_services(cfg, db, clock) as services, serving_services(services) as base:
        async with aiohttp.ClientSession() as http:
            for name, build in sorted(payloads.ALL_ENTITY_ATTACKS.items()):
                body = build().decode()
                for sim in (plain, safe):
                    t0 = time.perf_counter()
                    r = await deliver(http, base + PATH, sim.message(body, "attacker"))
                    assert r.status == 400, (name, sim.safe_mode, r.status, r.text)
                    assert time.perf_counter() - t0 < 1.0, name
            big = plain.text("o", "x").with_body(payloads.oversized_text())
            assert (await deliver(http, base + PATH, big)).status == 413
            nested = plain.message(payloads.deep_nesting(5000).decode(), "attacker")
            assert (await deliver(http, base + PATH, nested)).status == 400
            junk = plain.text("o", "x").with_body(b"not xml at all")
            assert (await deliver(http, base + PATH, junk)).status == 400
    assert await count(services, InboundRecord) == 0


async def test_three_overlapping_retries_have_one_effect(db_url, db, clock) -> None:
    cfg = channel_config(db_url, **oa_env())
    sim = OfficialAccountSim(token=OA_TOKEN, appid=OA_APPID)
    async with running_services(cfg, db, clock) as services, serving_services(services) as base:
        async with aiohttp.ClientSession() as http:
            req = sim.text("oRetry_000000000000000001", "帮助", msg_id=424242)
            tries = [req, req.retry(), req.retry()]  # each try signed afresh, like WeChat's
            results = await asyncio.gather(*(deliver(http, base + PATH, r) for r in tries))
    assert [r.status for r in results] == [200, 200, 200]
    replies = [sim.read_reply(r.body) for r in results]
    contents = {x["Content"] for x in replies if x is not None}
    assert len(contents) == 1 and "怎么用" in contents.pop()
    assert await count(services, InboundRecord) == 1
    assert await count(services, OutboxRow) == 1


async def test_slow_answer_is_success_then_customer_service_message(db_url, db, clock) -> None:
    """Past the passive budget the callback answers ``success`` at once; the reply then goes out
    as a 客服消息 through the (fake, loopback) API, exactly once, with a fresh access token."""
    fake = FakeWeChatApi(appid=OA_APPID, secret=OA_SECRET)
    async with serving(fake.app()) as api_base:
        cfg = channel_config(
            db_url, **oa_env(WECHAT_OA_SECRET=OA_SECRET, WECHAT_API_BASE=api_base)
        )
        cfg = with_section(cfg, "wechat_oa", passive_reply_seconds=0.2)
        sim = OfficialAccountSim(token=OA_TOKEN, appid=OA_APPID)
        async with (
            running_services(cfg, db, clock) as services,
            serving_services(services) as base,
        ):
            real_handle = services.engine.handle

            async def slow_handle(msg, **kw):  # type: ignore[no-untyped-def]
                await asyncio.sleep(0.6)
                return await real_handle(msg, **kw)

            services.engine.handle = slow_handle  # type: ignore[method-assign]
            async with aiohttp.ClientSession() as http:
                t0 = time.perf_counter()
                r = await deliver(http, base + PATH, sim.text("oSlow_0000000000000000001", "帮助"))
                assert (r.status, r.text) == (200, "success")
                assert time.perf_counter() - t0 < 0.5
                await services.channels.cores[0].drain()  # the late work commits
                assert await count(services, OutboxRow, status="queued") == 1
                # the sender leaves the row alone while a passive reply could still take it …
                assert await services.sender.run_once() == 0
                clock.advance(seconds=2)
                # … then delivers it by API
                assert await services.sender.run_until_idle() == 1
                assert await services.sender.run_until_idle() == 0
    [(api, to, text)] = fake.delivered
    assert (api, to) == ("oa_custom", "oSlow_0000000000000000001") and "怎么用" in text
    assert fake.token_fetches == 1
    assert await count(services, OutboxRow, status="sent") == 1


async def test_waiting_push_is_delivered_in_the_next_passive_reply(db_url, db, clock) -> None:
    """A push that missed the 客服 window (45015) waits; when the person writes, it rides along
    with the answer, and the sender never sends it a second time."""
    fake = FakeWeChatApi(appid=OA_APPID, secret=OA_SECRET, fault_rate=1.0, faults=("45015",))
    async with serving(fake.app()) as api_base:
        cfg = channel_config(
            db_url, **oa_env(WECHAT_OA_SECRET=OA_SECRET, WECHAT_API_BASE=api_base)
        )
        sim = OfficialAccountSim(token=OA_TOKEN, appid=OA_APPID)
        openid = "oPush_0000000000000000001"
        async with (
            running_services(cfg, db, clock) as services,
            serving_services(services) as base,
        ):
            async with services.db.transaction() as s:
                from storage.repositories import OutboxRepository

                await OutboxRepository(s).enqueue(
                    channel="wechat_oa",
                    chat_id=openid,
                    text="【招工 1234】明天采茶",
                    idempotency_key="push:1",
                    now=clock(),
                )
            clock.advance(seconds=10)
            assert await services.sender.run_once() == 0  # 45015: outside the window
            async with services.db.reader() as s:
                row = (await s.execute(select(OutboxRow))).scalar_one()
            assert (row.status, row.attempts) == ("queued", 1)
            assert (row.next_attempt_at - clock()).total_seconds() >= 3600  # no tight loop
            async with aiohttp.ClientSession() as http:
                got = await Person(http, base, sim, openid).say("帮助")
            assert got.startswith("【招工 1234】明天采茶") and "怎么用" in got
            clock.advance(hours=7)
            assert await services.sender.run_until_idle() == 0
    assert fake.delivered == []
    assert await count(services, OutboxRow, status="sent") == 2


async def test_pushes_go_by_template_message(db_url, db, clock) -> None:
    """A digest (a push, not an answer) goes straight to the approved template; an ordinary
    reply that finds the 客服 window closed (45015) falls back to it too."""
    fake = FakeWeChatApi(appid=OA_APPID, secret=OA_SECRET)
    async with serving(fake.app()) as api_base:
        cfg = channel_config(
            db_url, **oa_env(WECHAT_OA_SECRET=OA_SECRET, WECHAT_API_BASE=api_base)
        )
        cfg = with_section(
            cfg,
            "wechat_oa",
            template_id="TPL_DIGEST",
            template_fields={"first": "{title}", "keyword1": "{text}"},
        )
        async with running_services(cfg, db, clock) as services:
            from storage.repositories import OutboxRepository

            async with services.db.transaction() as s:
                await OutboxRepository(s).enqueue(
                    channel="wechat_oa",
                    chat_id="oDigest_000000000000000001",
                    text="今天适合您的活\n【招工 1234】采茶",
                    idempotency_key="notify:digest:7:2026-11-26",
                    now=clock(),
                )
            clock.advance(seconds=10)
            assert await services.sender.run_until_idle() == 1
    [(api, to, data)] = fake.delivered
    assert (api, to) == ("oa_template", "oDigest_000000000000000001")
    assert "今天适合您的活" in data and "【招工 1234】采茶" in data
