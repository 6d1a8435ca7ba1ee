"""The 企业微信 app callback of the real app (bot.adapters.wecom) driven by Tencent's published
sample vector and by the independent simulator, and the group-robot webhook sender against a
loopback fake that enforces WeCom's 20-messages-a-minute rule."""

from __future__ import annotations

import asyncio
import time

import aiohttp
from sqlalchemy import func, select

from bot.app import Services
from bot.config import OutboxConfig
from bot.outbox import OutboxSender
from storage.models import Identity, InboundRecord, OutboxRow, WorkerProfile
from storage.repositories import OutboxRepository
from tests.channels.conftest import (
    AES_KEY,
    CORP_ID,
    OA_TOKEN,
    channel_config,
    running_services,
    serving,
    serving_services,
    with_section,
)
from tests.wechat_sim import WeComSim, deliver, payloads, vectors
from tests.wechat_sim.fake_api import FakeWeChatApi, Limit

PATH = "/wechat/wecom"


def wecom_env(token: str = OA_TOKEN, corp: str = CORP_ID, key: str = AES_KEY) -> dict[str, str]:
    return {"WECOM_CORP_ID": corp, "WECOM_TOKEN": token, "WECOM_AES_KEY": key}


async def count(services: Services, model, **where) -> int:  # type: ignore[no-untyped-def]
    async with services.db.reader() as s:
        stmt = select(func.count()).select_from(model)
        for k, v in where.items():
            stmt = stmt.where(getattr(model, k) == v)
        return int(await s.scalar(stmt) or 0)


async def test_tencent_sample_vector_over_http(db_url, db, clock) -> None:
    cfg = channel_config(
        db_url,
        **wecom_env(
            vectors.TENCENT_TOKEN, vectors.TENCENT_CORP_ID, vectors.TENCENT_ENCODING_AES_KEY
        ),
    )
    cfg = with_section(cfg, "wecom", max_clock_skew_seconds=0)  # the sample is from 2014
    wc = WeComSim(
        token=vectors.TENCENT_TOKEN,
        corp_id=vectors.TENCENT_CORP_ID,
        encoding_aes_key=vectors.TENCENT_ENCODING_AES_KEY,
    )
    async with running_services(cfg, db, clock) as services, serving_services(services) as base:
        async with aiohttp.ClientSession() as http:
            url = base + PATH
            async with http.get(url, params=vectors.TENCENT_VERIFY) as r:
                assert (r.status, await r.text()) == (200, vectors.TENCENT_VERIFY_ECHO)
            bad = dict(vectors.TENCENT_VERIFY, nonce=str(int(vectors.TENCENT_VERIFY["nonce"]) + 1))
            async with http.get(url, params=bad) as r:
                assert r.status == 403
            bad_post = dict(vectors.TENCENT_POST_PARAMS, timestamp="1409659814")
            async with http.post(url, params=bad_post, data=vectors.TENCENT_POST_BODY) as r:
                assert r.status == 403
            assert await count(services, InboundRecord) == 0
            async with http.post(
                url, params=vectors.TENCENT_POST_PARAMS, data=vectors.TENCENT_POST_BODY
            ) as r:
                assert r.status == 200
                reply = wc.read_reply(await r.read())  # encrypted with the sample's key, verified
    assert reply is not None and reply["ToUserName"] == "mycreate"
    assert reply["FromUserName"] == vectors.TENCENT_CORP_ID
    async with services.db.reader() as s:
        rec = (await s.execute(select(InboundRecord))).scalar_one()
    assert (rec.channel, rec.chat_id) == ("wecom", "mycreate")
    assert rec.message_id.endswith("4561255354251345929")


async def test_member_registers_by_chat_and_bad_input_is_refused(db_url, db, clock) -> None:
    cfg = channel_config(db_url, **wecom_env())
    wc = WeComSim(token=OA_TOKEN, corp_id=CORP_ID, encoding_aes_key=AES_KEY)
    user = "ZhangSan"
    async with running_services(cfg, db, clock) as services, serving_services(services) as base:
        async with aiohttp.ClientSession() as http:
            url = base + PATH

            async def say(text: str) -> str:
                r = await deliver(http, url, wc.text(user, text))
                assert r.status == 200, r.text
                reply = wc.read_reply(r.body)
                assert reply is not None and reply["ToUserName"] == user
                return reply["Content"]

            req, echo = wc.verification()
            assert (await deliver(http, url, req)).text == echo
            assert (await deliver(http, url, wc.with_bad_signature(req))).status == 403
            assert "回 1 同意并开始" in await say("登记")
            await say("1")
            await say("张三 13905981234")
            await say("保洁")
            await say("全县")
            await say("1")
            assert "登记好了" in await say("150")
            # hostile XML inside a validly signed, encrypted envelope
            for name, build in sorted(payloads.ALL_ENTITY_ATTACKS.items()):
                t0 = time.perf_counter()
                r = await deliver(http, url, wc.message(build().decode()))
                assert r.status == 400, (name, r.text)
                assert time.perf_counter() - t0 < 1.0
            bad = wc.with_bad_signature(wc.text(user, "我的资料"))
            assert (await deliver(http, url, bad)).status == 403
            # another corp's message (right token, wrong receive id) does not decrypt
            other = WeComSim(token=OA_TOKEN, corp_id="ww_other_corp", encoding_aes_key=AES_KEY)
            assert (await deliver(http, url, other.text(user, "hi"))).status == 400
    async with services.db.reader() as s:
        w = (await s.execute(select(WorkerProfile))).scalar_one()
        ident = (await s.execute(select(Identity))).scalar_one()
    assert (w.name, w.phone) == ("张三", "13905981234")
    assert (ident.channel, ident.external_id) == ("wecom", user)
    assert await count(services, InboundRecord) == 7


async def test_robot_webhook_never_exceeds_its_rate(db_url, db, clock) -> None:
    """60 digests to two robots through a fake WeCom that allows 20 per window per robot (the
    window shortened to 1 s): every message sent once, never more than 20 in any window."""
    fake = FakeWeChatApi(
        robot_keys=frozenset({"KEY_A", "KEY_B"}), limits={"robot": Limit(20, 1.0, per="to")}
    )
    async with serving(fake.app()) as api_base:
        cfg = channel_config(
            db_url, WECOM_ROBOT_KEYS="xiamao=KEY_A,chengqu=KEY_B", WECOM_API_BASE=api_base
        )
        cfg = with_section(cfg, "wecom_robot", window_seconds=1.05)
        async with running_services(cfg, db, clock) as services:
            sender = OutboxSender(
                services.db,
                {"wecom_robot": services.channels.transports["wecom_robot"]},
                OutboxConfig(poll_seconds=0.05),
                clock=_utc_now,
            )
            async with services.db.transaction() as s:
                repo = OutboxRepository(s)
                for i in range(60):
                    robot = "xiamao" if i % 3 else "chengqu"
                    await repo.enqueue(
                        channel="wecom_robot",
                        chat_id=robot,
                        text=f"今日招工汇总 第{i}条",
                        idempotency_key=f"digest:{i}",
                        now=_utc_now(),
                    )
                await repo.enqueue(
                    channel="wecom_robot",
                    chat_id="nosuchrobot",
                    text="x",
                    idempotency_key="digest:x",
                    now=_utc_now(),
                )
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                await sender.run_once()
                if await count(services, OutboxRow, status="queued") == 0:
                    break
                await asyncio.sleep(0.05)
    texts = [t for _api, _to, t in fake.delivered]
    assert len(texts) == 60 and len(set(texts)) == 60
    assert fake.violations == []
    assert fake.max_in_window("robot", 1.0, to="KEY_A") <= 20
    assert fake.max_in_window("robot", 1.0, to="KEY_B") <= 20
    assert await count(services, OutboxRow, status="sent") == 60
    assert await count(services, OutboxRow, status="dead") == 1  # unknown robot: operator alert


def _utc_now():  # type: ignore[no-untyped-def]
    from bot.app import utc_now

    return utc_now()
