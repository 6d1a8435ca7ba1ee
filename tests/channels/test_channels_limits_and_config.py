"""Send limits (bot.ratelimit), the channel switches in the environment (bot.config), the
group-post pipeline on its own (market.group_posts) and the outbox sender's hold/admit/defer hooks.
"""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.config import ConfigError, OutboxConfig, load_config
from bot.outbox import DeliveryDeferred, OutboxSender
from bot.ratelimit import Admission, Limits, Pacer, Pause, SlidingWindow, one_key, per_key
from market.group_posts import handle_group_post
from storage.models import EmployerProfile, Order, OutboxRow
from storage.repositories import OutboxRepository
from tests.channels.conftest import REPO


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_sliding_window_counts_any_window_and_reservations() -> None:
    c = Clock()
    w = SlidingWindow(3, 10.0, clock=c)
    assert [w.try_acquire("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert w.try_acquire("a") == pytest.approx(10.0)
    assert w.try_acquire("b") == 0.0  # per key
    c.t += 4
    assert w.wait_time("a") == pytest.approx(6.0)
    c.t += 6
    assert w.reserve("a") == 0.0  # a reserved place counts until committed or cancelled
    assert w.reserve("a") == 0.0
    assert w.reserve("a") == 0.0
    assert w.reserve("a") > 0
    c.t += 30  # a reservation is a send at commit time, not at reserve time
    w.commit("a")
    w.cancel("a")
    w.cancel("a")
    assert w.try_acquire("a") == 0.0
    assert w.try_acquire("a") == 0.0
    assert w.try_acquire("a") > 0  # 3 sends within the last 10 s


def test_limits_are_all_or_nothing_and_admission_tracks_rows() -> None:
    c = Clock()
    lim = Limits(
        [(SlidingWindow(2, 60, clock=c), per_key), (SlidingWindow(3, 60, clock=c), one_key)]
    )
    adm = Admission(lim)
    assert adm.reserve(1, "u1") == 0.0 and adm.reserve(2, "u1") == 0.0
    assert adm.reserve(3, "u1") > 0  # per-member limit
    assert adm.reserve(3, "u2") == 0.0
    assert adm.reserve(4, "u3") > 0  # global limit
    assert adm.take(1, "u1") == 0.0  # uses the reservation
    adm.release(2)  # handed back unsent: the place is free again
    assert adm.reserve(4, "u3") == 0.0


def test_pacer_gaps_jitter_and_hourly_cap() -> None:
    c = Clock()
    p = Pacer(
        min_gap=3,
        max_gap=8,
        switch_min_gap=15,
        switch_max_gap=35,
        per_hour=4,
        clock=c,
        rng=random.Random(1),
    )
    assert p.try_acquire("room1") == 0.0
    assert 3 <= p.try_acquire("room1") <= 8
    assert 15 <= p.try_acquire("room2") <= 35  # another chat: the longer gap
    gaps = []
    for _ in range(3):
        wait = p.try_acquire("room1")
        c.t += wait
        gaps.append(wait)
        assert p.try_acquire("room1") == 0.0
    assert len(set(gaps)) == 3  # jitter: not a fixed rhythm
    c.t += 100
    assert p.try_acquire("room1") > 3000  # the 5th message within the hour waits for the hour
    assert p.reserve("x") > 0


def test_pause() -> None:
    c = Clock()
    pause = Pause(clock=c)
    assert pause.remaining() == 0
    pause.pause(60)
    c.t += 10
    assert pause.remaining() == pytest.approx(50)


def test_channels_are_off_by_default_and_switched_on_by_environment() -> None:
    cfg = load_config(REPO / "config.yaml", env={})
    assert not (
        cfg.wechat_oa.enabled
        or cfg.wecom.enabled
        or cfg.wecom_robot.enabled
        or cfg.wechaty.enabled
    )
    cfg = load_config(
        REPO / "config.yaml",
        env={
            "WECHAT_OA_TOKEN": "tok123",
            "WECHAT_OA_APPID": "wxabc",
            "WECHAT_OA_SECRET": "s3cret",
            "WECHAT_API_BASE": "http://127.0.0.1:9",
            "WECOM_CORP_ID": "ww1",
            "WECOM_TOKEN": "t0k",
            "WECOM_AES_KEY": "a" * 43,
            "WECOM_AGENT_ID": "1000002",
            "WECOM_ROBOT_KEYS": "xiamao=K1,chengqu=K2",
            "WECHATY_ENABLED": "true",
            "WECHATY_PUPPET_SERVICE_ENDPOINT": "127.0.0.1:8788",
            "WECHATY_PUPPET_SERVICE_TOKEN": "insecure_x",
        },
    )
    assert cfg.wechat_oa.enabled and cfg.wechat_oa.api_base == "http://127.0.0.1:9"
    assert (cfg.wechat_oa.appid, cfg.wechat_oa.secret) == ("wxabc", "s3cret")
    assert cfg.wecom.enabled and cfg.wecom.agent_id == 1000002
    assert cfg.wecom_robot.enabled and cfg.wecom_robot.robots == {"xiamao": "K1", "chengqu": "K2"}
    assert cfg.wechaty.enabled and cfg.wechaty.endpoint == "127.0.0.1:8788"
    # Wechaty needs an explicit switch; a channel switched on without its secrets does not start
    assert not load_config(None, env={"WECHATY_PUPPET_SERVICE_TOKEN": "x"}).wechaty.enabled
    with pytest.raises(ConfigError, match="WECOM_CORP_ID"):
        load_config(None, env={"WECOM_TOKEN": "t0k"})
    with pytest.raises(ConfigError, match=r"wechat_oa\.aes_key"):
        load_config(None, env={"WECHAT_OA_TOKEN": "tok123", "WECHAT_OA_AES_KEY": "short"})
    assert not load_config(
        None, env={"WECHAT_OA_TOKEN": "tok123", "WECHAT_OA_ENABLED": "0"}
    ).wechat_oa.enabled


async def test_group_post_pipeline(db, clock) -> None:  # type: ignore[no-untyped-def]
    tz = __import__("zoneinfo").ZoneInfo("Asia/Shanghai")

    async def post(text: str, user: str = "boss1", chat: str = "room1@chatroom") -> str | None:
        async with db.transaction() as s:
            return await handle_group_post(
                s,
                channel="wechaty",
                chat_id=chat,
                user_id=user,
                sender_name="王老板",
                text=text,
                now=clock(),
                tz=tz,
            )

    card = await post("招工：沙县夏茂镇明天采茶5人，日结150元，联系13812345678 王老板")
    assert (
        card is not None
        and "【招工 " in card
        and "138****5678" in card
        and "13812345678" not in card
    )
    assert "07:00" in card and "私聊" in card
    assert await post("有人去吗") is None
    assert await post("找活：泥水工，会贴砖，电话13900001111", user="w1") is None  # a seeker
    assert (
        await post(
            "招工：沙县夏茂镇明天采茶5人，日结150元，联系13812345678 王老板！！",
            chat="room2@chatroom",
        )
        is None
    )
    assert (
        await post("招聘刷单员，在家手机操作，日赚500，先交押金100元，加v详聊", user="scam")
        is None
    )
    async with db.reader() as s:
        orders = (await s.execute(select(Order).order_by(Order.id))).scalars().all()
        boss = await s.get(EmployerProfile, orders[0].employer_id)
    assert [(o.status, o.source) for o in orders] == [("open", "group"), ("held", "group")]
    assert boss is not None and boss.company == "" and boss.phone == "13812345678"


class _Paused:
    channel = "paused"
    transactional = False
    hold_seconds = 5.0

    def __init__(self) -> None:
        self.admitted: list[int] = []
        self.deferred = 0

    def admit(self, row: OutboxRow) -> float:
        if row.text == "later":
            return 30.0
        self.admitted.append(row.id)
        return 0.0

    async def deliver(self, row: OutboxRow, session) -> None:  # type: ignore[no-untyped-def]
        self.deferred += 1
        raise DeliveryDeferred("channel paused", retry_after=60)


async def test_sender_hooks_hold_admit_and_defer_count_no_attempt(db, clock) -> None:  # type: ignore[no-untyped-def]
    t = _Paused()
    sender = OutboxSender(db, {"paused": t}, OutboxConfig(), clock=clock)
    async with db.transaction() as s:
        repo = OutboxRepository(s)
        await repo.enqueue(
            channel="paused", chat_id="a", text="now", idempotency_key="k1", now=clock()
        )
        await repo.enqueue(
            channel="paused", chat_id="a", text="later", idempotency_key="k2", now=clock()
        )
    assert await sender.run_once() == 0
    assert t.admitted == [] and t.deferred == 0  # too fresh: held for the channel's own fast path
    clock.advance(seconds=6)
    assert await sender.run_once() == 0
    assert t.deferred == 1
    async with db.reader() as s:
        rows = {r.text: r for r in (await s.execute(select(OutboxRow))).scalars()}
    assert rows["now"].status == "queued" and rows["now"].attempts == 0  # deferred: not an attempt
    assert rows["now"].next_attempt_at - clock() == timedelta(seconds=60)
    assert rows["later"].attempts == 0 and rows["later"].next_attempt_at - clock() == timedelta(
        seconds=30
    )
