"""The simulator driving the real app's callbacks end to end on loopback: one deployment with the
公众号 (plaintext and safe mode: 兼容模式) and 企业微信 switched on, WeChat's retry rule against a slow
message, and 10,000 replayed callbacks with 20 % concurrent duplicates → exactly 10,000 effects."""

from __future__ import annotations

import asyncio
import random

import aiohttp
import pytest
from sqlalchemy import func, select

from storage.models import InboundRecord, OutboxRow
from tests.channels.conftest import (
    AES_KEY,
    CORP_ID,
    OA_APPID,
    OA_TOKEN,
    channel_config,
    running_services,
    serving_services,
    with_section,
)
from tests.wechat_sim import OfficialAccountSim, WeComSim, deliver, deliver_with_retries

ENV = {
    "WECHAT_OA_TOKEN": OA_TOKEN,
    "WECHAT_OA_APPID": OA_APPID,
    "WECHAT_OA_AES_KEY": AES_KEY,
    "WECHAT_OA_COMPAT_MODE": "1",  # plaintext and safe-mode messages on one 公众号
    "WECOM_CORP_ID": CORP_ID,
    "WECOM_TOKEN": OA_TOKEN,
    "WECOM_AES_KEY": AES_KEY,
}


async def _count(services, model) -> int:  # type: ignore[no-untyped-def]
    async with services.db.reader() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


async def test_simulator_drives_both_callbacks_of_one_deployment(db_url, db, clock) -> None:
    cfg = channel_config(db_url, **ENV)
    oa = OfficialAccountSim(token=OA_TOKEN, appid=OA_APPID)
    safe = OfficialAccountSim(
        token=OA_TOKEN, appid=OA_APPID, encoding_aes_key=AES_KEY, safe_mode=True
    )
    wc = WeComSim(token=OA_TOKEN, corp_id=CORP_ID, encoding_aes_key=AES_KEY)
    async with running_services(cfg, db, clock) as services, serving_services(services) as base:
        assert services.channels is not None and services.channels.enabled == [
            "wechat_oa",
            "wecom",
        ]
        async with aiohttp.ClientSession() as s:
            req, echo = oa.verification()
            assert (await deliver(s, base + "/wechat/oa", req)).text == echo
            req, echo = wc.verification()
            assert (await deliver(s, base + "/wechat/wecom", req)).text == echo
            for sim, who in ((oa, "o_plain_worker"), (safe, "o_safe_worker")):
                r = await deliver(s, base + "/wechat/oa", sim.text(who, "帮助"))
                assert "怎么用" in sim.read_reply(r.body)["Content"]  # type: ignore[index]
            r = await deliver(s, base + "/wechat/wecom", wc.text("zhangsan", "帮助"))
            assert "怎么用" in wc.read_reply(r.body)["Content"]  # type: ignore[index]
            async with s.get(base + "/healthz") as h:
                assert (await h.json())["ok"] is True
    async with services.db.reader() as session:
        chans = sorted((await session.execute(select(InboundRecord.channel))).scalars())
    assert chans == ["wechat_oa", "wechat_oa", "wecom"]


async def test_wechat_retries_of_a_slow_message_have_one_effect(db_url, db, clock) -> None:
    """WeChat drops a connection after its deadline and sends the same MsgId again (3 tries).
    Here its deadline is shortened to 0.1 s and the dialog takes 0.5 s: three tries, one effect,
    and the answer goes out by API afterwards."""
    cfg = with_section(channel_config(db_url, **ENV), "wechat_oa", passive_reply_seconds=1.0)
    oa = OfficialAccountSim(token=OA_TOKEN, appid=OA_APPID)
    async with running_services(cfg, db, clock) as services, serving_services(services) as base:
        handled: list[str] = []
        real = services.engine.handle

        async def slow(msg, **kw):  # type: ignore[no-untyped-def]
            handled.append(msg.message_id)
            await asyncio.sleep(0.5)
            return await real(msg, **kw)

        services.engine.handle = slow  # type: ignore[method-assign]
        async with aiohttp.ClientSession() as s:
            req = oa.text("o_worker", "帮助", msg_id=123456789)
            outcomes = await deliver_with_retries(s, base + "/wechat/oa", req, timeout=0.1)
            assert outcomes == [None, None, None]  # WeChat gave up after 3 tries
            await asyncio.sleep(1.2)
            await services.channels.cores[0].drain()  # type: ignore[union-attr]
    assert len(handled) == 3  # the engine saw three deliveries …
    assert await _count(services, InboundRecord) == 1  # … and acted once
    assert await _count(services, OutboxRow) == 1


@pytest.mark.slow
async def test_ten_thousand_replayed_callbacks_have_exactly_ten_thousand_effects(
    db_url, db, clock
) -> None:
    n, dup_share, users, concurrency = 10_000, 0.2, 500, 24
    cfg = channel_config(db_url, **ENV)
    oa = OfficialAccountSim(token=OA_TOKEN, appid=OA_APPID)
    rng = random.Random(5)
    async with running_services(cfg, db, clock) as services, serving_services(services) as base:
        statuses: list[int] = []
        queue: asyncio.Queue[list] = asyncio.Queue()  # type: ignore[type-arg]
        for i in range(n):
            req = oa.text(f"o_replay_{i % users:04d}", "帮助", msg_id=9_000_000_000 + i)
            # a duplicate arrives while the first is still being handled (same MsgId; WeChat
            # signs every try afresh)
            queue.put_nowait([req, req.retry()] if rng.random() < dup_share else [req])
        conn = aiohttp.TCPConnector(limit=concurrency * 2)
        async with aiohttp.ClientSession(connector=conn) as s:

            async def worker() -> None:
                while not queue.empty():
                    batch = queue.get_nowait()
                    results = await asyncio.gather(
                        *(deliver(s, base + "/wechat/oa", r) for r in batch)
                    )
                    statuses.extend(r.status for r in results)

            await asyncio.gather(*(worker() for _ in range(concurrency)))
        await services.channels.cores[0].drain()  # type: ignore[union-attr]
        dups = len(statuses) - n
        assert n * dup_share * 0.8 < dups < n * dup_share * 1.2
        assert set(statuses) == {200}
        assert await _count(services, InboundRecord) == n
        assert await _count(services, OutboxRow) == n  # one answer per message, never two
