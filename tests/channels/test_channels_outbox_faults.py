"""Outbox senders of every WeChat channel against a fake WeChat API on loopback that fails 20 %
of the calls (45009 api freq out of limit, 45015 outside the 客服 window, hanging requests,
expired tokens): every row ends sent or dead-lettered, the API's limits are never exceeded and no
message arrives twice."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest
from sqlalchemy import func, select

from bot.adapters.wechat_api import HttpJson, OfficialAccountApi, RobotWebhook, WeComApi
from bot.adapters.wechat_oa import OfficialAccountTransport
from bot.adapters.wecom import WeComRobotTransport, WeComTransport
from bot.app import utc_now
from bot.config import OutboxConfig
from bot.outbox import OutboxSender
from bot.ratelimit import Limits, SlidingWindow, one_key, per_key
from storage.models import OutboxRow
from storage.repositories import OutboxRepository
from tests.channels.conftest import (
    CORP_ID,
    CORP_SECRET,
    OA_APPID,
    OA_SECRET,
    OA_TOKEN,
    channel_config,
    running_services,
    serving,
    with_section,
)
from tests.wechat_sim.fake_api import FakeWeChatApi, Limit

OA_LIMIT = Limit(15, 0.5)  # the fake's rules, with short windows so the test runs in seconds
WECOM_USER_LIMIT = Limit(4, 0.5, per="to")
ROBOT_LIMIT = Limit(20, 1.0, per="to")
MARGIN = 1.1  # the client's windows are a little longer than the server's (network jitter)


@pytest.mark.slow
async def test_every_row_ends_sent_or_dead_and_nothing_twice(db_url, db, caplog) -> None:
    fake = FakeWeChatApi(
        fault_rate=0.2,
        faults=("45009", "45015", "timeout", "token"),
        hang_seconds=0.6,
        seed=20261126,
        appid=OA_APPID,
        secret=OA_SECRET,
        corp_id=CORP_ID,
        corp_secret=CORP_SECRET,
        robot_keys=frozenset({"KEY_A"}),
        limits={
            "oa_custom": OA_LIMIT,
            "oa_template": OA_LIMIT,
            "wecom_app": WECOM_USER_LIMIT,
            "robot": ROBOT_LIMIT,
        },
    )
    async with serving(fake.app()) as api:
        cfg = channel_config(
            db_url,
            WECHAT_OA_TOKEN=OA_TOKEN,
            WECHAT_OA_APPID=OA_APPID,
            WECHAT_OA_SECRET=OA_SECRET,
            WECHAT_API_BASE=api,
            WECOM_CORP_ID=CORP_ID,
            WECOM_TOKEN=OA_TOKEN,
            WECOM_AES_KEY="a" * 43,
            WECOM_SECRET=CORP_SECRET,
            WECOM_AGENT_ID="1000002",
            WECOM_API_BASE=api,
            WECOM_ROBOT_KEYS="digest=KEY_A",
        )
        cfg = with_section(
            cfg,
            "wechat_oa",
            template_id="TPL_JOB",
            pause_on_throttle_seconds=0.3,
            window_closed_retry_seconds=0.3,
            passive_reply_seconds=0.0,
        )
        cfg = with_section(cfg, "wecom", pause_on_throttle_seconds=0.3, passive_reply_seconds=0.0)
        cfg = with_section(
            cfg,
            "wecom_robot",
            pause_on_throttle_seconds=0.3,
            window_seconds=ROBOT_LIMIT.window * MARGIN,
        )
        oa, wc, rb = cfg.wechat_oa, cfg.wecom, cfg.wecom_robot
        timeout = 0.3
        oa_t = OfficialAccountTransport(
            oa, api=OfficialAccountApi(HttpJson(api, timeout=timeout), OA_APPID, OA_SECRET)
        )
        oa_t.limits = Limits([(SlidingWindow(OA_LIMIT.limit, OA_LIMIT.window * MARGIN), one_key)])
        wc_t = WeComTransport(
            wc, api=WeComApi(HttpJson(api, timeout=timeout), CORP_ID, CORP_SECRET, 1000002)
        )
        wc_t.limits = Limits(
            [(SlidingWindow(WECOM_USER_LIMIT.limit, WECOM_USER_LIMIT.window * MARGIN), per_key)]
        )
        rb_t = WeComRobotTransport(rb, webhook=RobotWebhook(HttpJson(api, timeout=timeout)))
        transports = {"wechat_oa": oa_t, "wecom": wc_t, "wecom_robot": rb_t}
        async with running_services(cfg, db, utc_now, extra_transports=transports) as services:
            sender = OutboxSender(
                services.db,
                transports,
                OutboxConfig(
                    max_attempts=12,
                    backoff_base_seconds=0.05,
                    backoff_max_seconds=0.5,
                    lease_seconds=30,
                ),
                clock=utc_now,
            )
            rows = {"wechat_oa": 150, "wecom": 60, "wecom_robot": 45}
            async with services.db.transaction() as s:
                repo = OutboxRepository(s)
                for channel, n in rows.items():
                    for i in range(n):
                        chat = {
                            "wechat_oa": f"oUser{i % 25:03d}",
                            "wecom": f"member{i % 6}",
                            "wecom_robot": "digest",
                        }[channel]
                        await repo.enqueue(
                            channel=channel,
                            chat_id=chat,
                            text=f"{channel} 消息 {i}",
                            idempotency_key=f"{channel}:{i}",
                            now=utc_now(),
                        )
            deadline = time.monotonic() + 90
            with caplog.at_level(logging.ERROR, logger="bot.outbox"):
                while time.monotonic() < deadline:
                    await sender.run_once()
                    async with services.db.reader() as s:
                        open_rows = await s.scalar(
                            select(func.count())
                            .select_from(OutboxRow)
                            .where(OutboxRow.status.in_(("queued", "sending")))
                        )
                    if open_rows == 0:
                        break
                    await asyncio.sleep(0.05)
            async with services.db.reader() as s:
                final = (await s.execute(select(OutboxRow))).scalars().all()
        for t in transports.values():
            await t.close()

    # 1. every row reached a terminal state
    assert {r.status for r in final} <= {"sent", "dead"}, [
        (r.id, r.status, r.last_error) for r in final if r.status not in ("sent", "dead")
    ]
    dead = [r for r in final if r.status == "dead"]
    assert all("OUTBOX DEAD-LETTER" in m for m in caplog.messages) and len(caplog.messages) == len(
        dead
    )
    # 2. nothing delivered twice, and what was delivered is exactly what is marked sent
    delivered = [(to, text) for _api, to, text in fake.delivered]
    assert len(delivered) == len(set(delivered))
    sent = [r for r in final if r.status == "sent"]
    assert len(sent) == len(delivered) == sum(rows.values()) - len(dead)
    plain = {text for api_, _to, text in fake.delivered if api_ != "oa_template"}
    templated = [text for api_, _to, text in fake.delivered if api_ == "oa_template"]
    for r in sent:
        assert r.text in plain or any(r.text in t for t in templated), r.text
    # 3. the fake's limits were never exceeded
    assert fake.violations == []
    assert fake.max_in_window("oa_custom", OA_LIMIT.window) <= OA_LIMIT.limit
    for i in range(6):
        assert (
            fake.max_in_window("wecom_app", WECOM_USER_LIMIT.window, to=f"member{i}")
            <= WECOM_USER_LIMIT.limit
        )
    assert fake.max_in_window("robot", ROBOT_LIMIT.window, to="KEY_A") <= ROBOT_LIMIT.limit
    # 4. the faults really happened, and were handled as the reference says
    outcomes = {c.outcome for c in fake.calls}
    assert {"45009", "45015", "timeout", "42001"} <= outcomes
    assert templated, (
        "45015 fell back to the template message",
        [c for c in fake.calls if c.api == "oa_template"][:5],
        [c for c in fake.calls if c.outcome == "45015"][:3],
    )
    assert fake.token_fetches >= 3  # refreshed after 42001 (公众号 and 企业微信)
