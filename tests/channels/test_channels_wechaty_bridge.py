"""The Wechaty channel of the real app (bridge + engine + outbox + paced transport) driven by the
official Node gateway (wechaty-puppet-service 1.19.9 serving wechaty-puppet-mock 1.19.4) over real
gRPC on loopback: an employer's post in a room yields one job card with a masked phone, chatter
and held posts get nothing, a worker registers and takes the job in private chat, the bot keeps
its pace, and a wrong token or a missing login is a clean error with a non-zero exit."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import re
import subprocess
import sys
import time
import uuid

import pytest
from sqlalchemy import select

from bot.adapters.wechaty_bridge import WechatyBridge
from bot.adapters.wechaty_grpc import AT_SEPARATOR, WechatyAuthError
from bot.app import build_services, utc_now
from storage.migrate import upgrade
from storage.models import Assignment, EmployerProfile, Order
from tests.channels.conftest import REPO, channel_config, with_section

JOB_POST = "招工：沙县夏茂镇明天采茶5人，日结150元，联系13812345678 王老板"
SCAM_POST = "招聘刷单员，在家手机操作，日赚500，先交押金100元，加v详聊"
MIN_GAP, MAX_GAP, SWITCH_MIN, SWITCH_MAX = 0.15, 0.25, 0.3, 0.4


def wechaty_config(db_url: str, endpoint: str, token: str):  # type: ignore[no-untyped-def]
    cfg = channel_config(
        db_url,
        WECHATY_ENABLED="1",
        WECHATY_PUPPET_SERVICE_ENDPOINT=endpoint,
        WECHATY_PUPPET_SERVICE_TOKEN=token,
    )
    cfg = with_section(
        cfg,
        "wechaty",
        min_gap_seconds=MIN_GAP,
        max_gap_seconds=MAX_GAP,
        switch_min_gap_seconds=SWITCH_MIN,
        switch_max_gap_seconds=SWITCH_MAX,
        max_per_hour=500,
        login_timeout_seconds=5,
        connect_timeout_seconds=5,
    )
    return with_section(cfg, "outbox", poll_seconds=0.05)


@contextlib.asynccontextmanager
async def running_bridge(cfg, db):  # type: ignore[no-untyped-def]
    services = build_services(cfg, db=db, clock=utc_now)
    assert services.channels is not None and services.channels.bridge is not None
    await services.channels.start()
    stop = asyncio.Event()
    tasks = [
        asyncio.create_task(services.channels.bridge.run(stop)),
        asyncio.create_task(services.sender.run_forever(stop)),
    ]
    try:
        yield services
    finally:
        stop.set()
        services.sender.wake()
        await asyncio.wait_for(asyncio.gather(*tasks), 10)
        await services.channels.aclose()


async def quiet(gateway, seconds: float = 1.2) -> list[dict]:  # type: ignore[no-untyped-def]
    await asyncio.sleep(seconds)
    return gateway.bot_says()


async def test_group_post_card_private_take_and_pace(gateway, db_url, db) -> None:
    gateway.bot_says()  # nothing left over from another test
    said: list[dict] = []

    async def dm(who: str, text: str) -> str:
        await gateway.command("contact_say", **{"from": who}, text=text)
        ev = await gateway.wait(
            lambda e: (
                e.get("event") == "bot_say"
                and e["kind"] == "contact"
                and e["conversation_id"] == who
            )
        )
        said.append(ev)
        return ev["text"]

    cfg = wechaty_config(db_url, gateway.endpoint, gateway.token)
    async with running_bridge(cfg, db) as services:
        # 1. an employer's job post in the room: one card, phone masked, employer mentioned
        await gateway.command(
            "room_say", room=gateway.room_id, **{"from": "employer_wang"}, text=JOB_POST
        )
        card = await gateway.wait(
            lambda e: e.get("event") == "bot_say" and e["kind"] == "room", 15
        )
        said.append(card)
        assert card["conversation_id"] == gateway.room_id
        assert card["mention_ids"] == ["employer_wang"]
        assert card["text"].startswith(f"@王老板{AT_SEPARATOR}【招工 ")
        assert "138****5678" in card["text"] and "13812345678" not in card["text"]
        assert "采茶" in card["text"] and "150" in card["text"] and "私聊" in card["text"]
        code = re.search(r"接 (\d{4,8})", card["text"]).group(1)  # type: ignore[union-attr]

        # 2. chatter, a fraud-screened post and a repost in another group: silence
        await gateway.command(
            "room_say", room=gateway.room_id, **{"from": "worker_chen"}, text="有人去吗"
        )
        await gateway.command(
            "room_say", room=gateway.room_id, **{"from": "worker_chen"}, text=SCAM_POST
        )
        room2 = f"xiamao_{uuid.uuid4().hex[:8]}@chatroom"
        await gateway.command(
            "add_room",
            id=room2,
            topic="夏茂零工群",
            member_ids=["bot_shaxian_gig", "employer_wang", "worker_li"],
        )
        await gateway.command(
            "room_say", room=room2, **{"from": "employer_wang"}, text="【转】" + JOB_POST
        )
        assert await quiet(gateway) == []

        # 3. a worker registers in private chat, then takes the job with 接 CODE
        assert "回 1 同意并开始" in await dm("worker_li", "登记")
        await dm("worker_li", "1")
        await dm("worker_li", "李师傅 13900001111")
        await dm("worker_li", "采茶")
        await dm("worker_li", "夏茂")
        await dm("worker_li", "1")
        assert "登记好了" in await dm("worker_li", "100")
        await gateway.command("contact_say", **{"from": "worker_li"}, text=f"接 {code}")
        notes = [
            await gateway.wait(
                lambda e: e.get("event") == "bot_say" and e["kind"] == "contact", 15
            )
            for _ in range(2)
        ]
        said.extend(notes)
        by_who = {e["conversation_id"]: e["text"] for e in notes}
        assert set(by_who) == {"worker_li", "employer_wang"}
        assert code in by_who["worker_li"] and code in by_who["employer_wang"]
        assert "李师傅" in by_who["employer_wang"]
        assert await quiet(gateway, 0.6) == []

        async with services.db.reader() as s:
            orders = (await s.execute(select(Order).order_by(Order.id))).scalars().all()
            [a] = (await s.execute(select(Assignment))).scalars().all()
            employer = await s.get(EmployerProfile, orders[0].employer_id)
        assert [(o.status, o.source) for o in orders] == [
            ("full", "group"),
            ("held", "group"),
        ] or [(o.status, o.source) for o in orders] == [("open", "group"), ("held", "group")]
        assert orders[0].code == code and a.order_id == orders[0].id and a.status == "confirmed"
        assert (employer.name, employer.phone, employer.company) == ("王老板", "13812345678", "")

    # 4. the pace: never two messages closer than the minimum gap, longer when switching chats
    times = [(e["_t"], e["conversation_id"]) for e in sorted(said, key=lambda e: e["_t"])]
    for (t0, c0), (t1, c1) in itertools.pairwise(times):
        need = MIN_GAP if c0 == c1 else SWITCH_MIN
        assert t1 - t0 >= need - 0.05, (c0, c1, t1 - t0)


async def test_wrong_token_and_no_login_are_clean_errors(
    gateway, gateway_factory, db_url, db, tmp_path
) -> None:
    cfg = wechaty_config(db_url, gateway.endpoint, "insecure_wrong_token")
    services = build_services(cfg, db=db, clock=utc_now)
    t0 = time.monotonic()
    with pytest.raises(WechatyAuthError) as exc:
        await services.channels.start()  # type: ignore[union-attr]
    assert time.monotonic() - t0 < 3
    assert "rejected the token" in str(exc.value) and "insecure_wrong_token" not in str(exc.value)
    await services.channels.aclose()  # type: ignore[union-attr]
    assert isinstance(services.channels.bridge, WechatyBridge)  # type: ignore[union-attr]

    not_logged_in = gateway_factory("--no-login")
    serve_db = f"sqlite+aiosqlite:///{tmp_path}/serve.db"
    upgrade(serve_db)  # serve refuses a database without the schema before it reaches Wechaty

    def run(*args: str, endpoint: str, token: str) -> subprocess.CompletedProcess:
        env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "DATABASE_URL": serve_db,
            "WECHATY_ENABLED": "1",
            "WECHATY_PUPPET_SERVICE_ENDPOINT": endpoint,
            "WECHATY_PUPPET_SERVICE_TOKEN": token,
        }
        return subprocess.run(
            [sys.executable, "-m", "bot", "--config", str(REPO / "config.yaml"), *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=90,
            check=False,
        )

    ok, bad, late, serve_bad = await asyncio.gather(
        asyncio.to_thread(run, "wechaty", "check", endpoint=gateway.endpoint, token=gateway.token),
        asyncio.to_thread(
            run, "wechaty", "check", endpoint=gateway.endpoint, token="insecure_nope"
        ),
        asyncio.to_thread(
            run,
            "wechaty",
            "check",
            "--login-timeout",
            "1",
            endpoint=not_logged_in.endpoint,
            token=gateway.token,
        ),
        asyncio.to_thread(
            run, "serve", "--port", "0", endpoint=gateway.endpoint, token="insecure_nope"
        ),
    )
    assert ok.returncode == 0, ok.stderr
    assert gateway.self_id in ok.stdout
    assert bad.returncode == 3 and "rejected the token" in bad.stderr
    assert late.returncode == 2 and "no WeChat login" in late.stderr
    assert serve_bad.returncode == 3, serve_bad.stderr
    assert "Wechaty 通道无法启动" in serve_bad.stderr and "insecure_nope" not in serve_bad.stderr
