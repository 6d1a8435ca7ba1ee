"""WeChat's retries of a message whose effect is already committed answer like the first delivery
did — including the notifications the dialog wrote (the 接单 confirmation) — and never make a
second send: over real HTTP on loopback, the simulator dropping the first answer, the outbox
sender against the fake 公众号 API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.app import Services
from market.people import register_worker
from storage.models import OutboxRow
from storage.repositories import OutboxRepository, UserRepository
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
from tests.conftest import Chat
from tests.dialogs.test_orders import post, register_employer
from tests.wechat_sim import OfficialAccountSim, SimResponse, deliver, deliver_with_retries
from tests.wechat_sim.fake_api import FakeWeChatApi

PATH = "/wechat/oa"
WORKER = "oTaker_0000000000000000001"


async def queued(services: Services, chat_id: str) -> int:
    async with services.db.reader() as s:
        stmt = select(func.count()).select_from(OutboxRow)
        stmt = stmt.where(OutboxRow.chat_id == chat_id, OutboxRow.status == "queued")
        return int(await s.scalar(stmt) or 0)


@asynccontextmanager
async def market(
    db_url: str, db, clock, *, safe_mode: bool = False, **oa: object
) -> AsyncIterator[tuple[Services, str, aiohttp.ClientSession, FakeWeChatApi, str]]:  # type: ignore[no-untyped-def]
    """The real app with the 公众号 on (its API a loopback fake), an employer (web chat) with one
    open order, and a worker registered on the 公众号: (services, base, http, fake API, code)."""
    fake = FakeWeChatApi(appid=OA_APPID, secret=OA_SECRET)
    async with serving(fake.app()) as api_base:
        env = {
            "WECHAT_OA_TOKEN": OA_TOKEN,
            "WECHAT_OA_APPID": OA_APPID,
            "WECHAT_OA_SECRET": OA_SECRET,
            "WECHAT_API_BASE": api_base,
        }
        if safe_mode:
            env["WECHAT_OA_AES_KEY"] = AES_KEY
        cfg = channel_config(db_url, **env)
        if oa:
            cfg = with_section(cfg, "wechat_oa", **oa)
        async with (
            running_services(cfg, db, clock) as services,
            serving_services(services) as base,
            aiohttp.ClientSession() as http,
        ):
            boss = Chat(services, user_id="boss")
            await register_employer(boss)
            code = await post(boss, "招小工2名 明天7点 夏茂镇 日结200")
            async with services.db.transaction() as s:
                user = await UserRepository(s).get_or_create("wechat_oa", WORKER, "张", clock())
                await register_worker(
                    s, user, name="张师傅", phone="13905981234", trades=["helper"], towns=[],
                    availability="any", min_wage_fen=0, min_wage_unit="day", now=clock(),
                )
            yield services, base, http, fake, code


def content(sim: OfficialAccountSim, resp: SimResponse | None) -> str:
    assert resp is not None and resp.status == 200, resp
    reply = sim.read_reply(resp.body)
    return "" if reply is None else reply["Content"]


@pytest.mark.parametrize("safe_mode", [False, True], ids=["plaintext", "aes"])
async def test_a_retried_take_answers_the_confirmation_again(db_url, db, clock, safe_mode) -> None:
    """接 writes no reply of its own: the confirmation is a notification to the worker. The
    first answer carries it and is lost on the way back; WeChat's retry (signed afresh) gets the
    same confirmation, not a bare ``success`` — and nothing goes out by 客服消息 either."""
    sim = OfficialAccountSim(
        token=OA_TOKEN, appid=OA_APPID, encoding_aes_key=AES_KEY, safe_mode=safe_mode
    )
    async with market(db_url, db, clock, safe_mode=safe_mode) as (services, base, http, fake, code):
        take = sim.text(WORKER, f"接 {code}", msg_id=8001)
        first = await deliver(http, base + PATH, take)  # … which WeChat never receives
        confirmation = content(sim, first)
        assert confirmation.startswith("接单成功") and code in confirmation
        tries = await deliver_with_retries(http, base + PATH, take, lost_answers=1)
        assert tries[0] is None and len(tries) == 2
        assert content(sim, tries[1]) == confirmation
        # and a third try too
        assert content(sim, await deliver(http, base + PATH, take.retry())) == confirmation
        assert await queued(services, WORKER) == 0
        clock.advance(seconds=10)
        await services.sender.run_until_idle()
    assert [to for _api, to, _text in fake.delivered] == []  # the employer is on the web chat
    async with services.db.reader() as s:
        rows = (await s.execute(select(OutboxRow).where(OutboxRow.chat_id == WORKER))).scalars()
        assert [(r.status, r.attempts) for r in rows] == [("sent", 0)]


async def test_a_retry_answers_what_the_first_answer_held_not_what_came_since(
    db_url, db, clock
) -> None:
    """The first answer carried a waiting push (it had missed the 客服 window) and the reply; a
    notification queued after it is not the retry's business: the retry repeats the first
    answer, and the new row stays with the sender."""
    sim = OfficialAccountSim(token=OA_TOKEN, appid=OA_APPID)
    async with market(db_url, db, clock) as (services, base, http, fake, _code):
        async with services.db.transaction() as s:
            await OutboxRepository(s).enqueue(
                channel="wechat_oa", chat_id=WORKER, text="【招工 1234】明天采茶",
                idempotency_key="push:1", now=clock(),
            )
            await s.execute(  # one API try already failed with 45015
                OutboxRow.__table__.update().values(attempts=1, last_error="45015 out of window")
            )
        ask = sim.text(WORKER, "帮助", msg_id=8101)
        first = content(sim, await deliver(http, base + PATH, ask))
        assert first.startswith("【招工 1234】明天采茶") and "怎么用" in first
        async with services.db.transaction() as s:
            await OutboxRepository(s).enqueue(
                channel="wechat_oa", chat_id=WORKER, text="新消息", idempotency_key="t:2",
                now=clock(),
            )
        assert content(sim, await deliver(http, base + PATH, ask.retry())) == first
        assert await queued(services, WORKER) == 1  # 新消息: for the sender (or the next message)
        clock.advance(seconds=10)
        await services.sender.run_until_idle()
    assert [text for _api, _to, text in fake.delivered] == ["新消息"]


async def test_when_the_first_answer_went_by_api_a_retry_answers_success(
    db_url, db, clock
) -> None:
    """Too slow for the passive window: the first delivery answered ``success`` and the outbox
    sent the confirmation by 客服消息. WeChat's retry then gets ``success`` and nothing is sent
    a second time."""
    sim = OfficialAccountSim(token=OA_TOKEN, appid=OA_APPID)
    async with market(db_url, db, clock, passive_reply_seconds=0.2) as (
        services,
        base,
        http,
        fake,
        code,
    ):
        real_handle = services.engine.handle

        async def slow_handle(msg, **kw):  # type: ignore[no-untyped-def]
            await asyncio.sleep(0.6)
            return await real_handle(msg, **kw)

        services.engine.handle = slow_handle  # type: ignore[method-assign]
        take = sim.text(WORKER, f"接 {code}", msg_id=8201)
        resp = await deliver(http, base + PATH, take)
        assert (resp.status, resp.text) == (200, "success")
        await services.channels.cores[0].drain()  # type: ignore[union-attr]
        services.engine.handle = real_handle  # type: ignore[method-assign]
        clock.advance(seconds=10)
        await services.sender.run_until_idle()  # the confirmation goes by 客服消息
        [(api, to, text)] = fake.delivered
        assert (api, to) == ("oa_custom", WORKER) and text.startswith("接单成功")
        for _ in range(2):  # WeChat's retries (the answer was lost, say)
            again = await deliver(http, base + PATH, take.retry())
            assert (again.status, again.text) == (200, "success")
        clock.advance(seconds=10)
        await services.sender.run_until_idle()
    assert len(fake.delivered) == 1


async def test_a_retry_while_the_sender_holds_the_rows_answers_success(
    db_url, db, clock
) -> None:
    """The rows of a slow first delivery are being sent by API (claimed by the sender) when the
    retry arrives: the retry takes nothing and answers ``success``."""
    sim = OfficialAccountSim(token=OA_TOKEN, appid=OA_APPID)
    async with market(db_url, db, clock, passive_reply_seconds=0.2) as (
        services,
        base,
        http,
        fake,
        code,
    ):
        real_handle = services.engine.handle

        async def slow_handle(msg, **kw):  # type: ignore[no-untyped-def]
            await asyncio.sleep(0.6)
            return await real_handle(msg, **kw)

        services.engine.handle = slow_handle  # type: ignore[method-assign]
        take = sim.text(WORKER, f"接 {code}", msg_id=8301)
        assert (await deliver(http, base + PATH, take)).text == "success"
        await services.channels.cores[0].drain()  # type: ignore[union-attr]
        services.engine.handle = real_handle  # type: ignore[method-assign]
        async with services.db.transaction() as s:  # the sender's claim, mid-send
            await s.execute(
                OutboxRow.__table__.update()
                .where(OutboxRow.chat_id == WORKER)
                .values(status="sending", attempts=1, lease_until=clock())
            )
        again = await deliver(http, base + PATH, take.retry())
        assert (again.status, again.text) == (200, "success")
    async with services.db.reader() as s:
        rows = (await s.execute(select(OutboxRow).where(OutboxRow.chat_id == WORKER))).scalars()
        assert [(r.status, r.attempts) for r in rows] == [("sending", 1)]
    assert fake.delivered == []
