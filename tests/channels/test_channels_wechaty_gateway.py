"""bot/adapters/wechaty_grpc.py against the official Node puppet-service gateway
(wechaty-puppet-service 1.19.9 + wechaty-puppet-mock 1.19.4) over real gRPC on loopback."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.adapters.wechaty_grpc import (
    AT_SEPARATOR,
    WechatyAuthError,
    WechatyClient,
    WechatyConnectionError,
    WechatyLoggedOut,
    WechatyLoginTimeout,
    WechatyMessage,
)

REPO = Path(__file__).resolve().parents[2]
JOB_POST = "招工：沙县夏茂镇明天采茶5人，日结150元，联系13812345678"


async def next_message(it, timeout: float = 10.0) -> WechatyMessage:
    return await asyncio.wait_for(it.__anext__(), timeout)


@pytest.mark.asyncio
async def test_room_mention_private_message_and_replies(gateway):
    client = WechatyClient()
    await client.connect(gateway.endpoint, gateway.token, timeout=10)
    try:
        assert await client.wait_login(timeout=10) == gateway.self_id
        assert client.self_name == gateway.self_name
        events = client.events()

        # employer posts in the room and @-mentions the bot
        ack = await gateway.command(
            "room_say",
            room=gateway.room_id,
            **{"from": "employer_wang"},
            text=JOB_POST,
            mention_bot=True,
        )
        m = await next_message(events)
        assert m.message_id == ack["message_id"]
        assert m.talker_id == "employer_wang"
        assert m.talker_name == "王老板"
        assert m.room_id == gateway.room_id
        assert m.room_topic == gateway.room_topic == "沙县零工群"
        assert m.mention_ids == (gateway.self_id,)
        assert m.mentions_self is True
        assert m.text == f"@{gateway.self_name}{AT_SEPARATOR}{JOB_POST}"
        assert m.clean_text == JOB_POST
        assert m.is_room and not m.is_private
        assert m.message_type == "text"
        assert abs(m.timestamp - time.time()) < 120

        # a worker's private "接 CODE"
        ack2 = await gateway.command("contact_say", **{"from": "worker_li"}, text="接 A7K3")
        p = await next_message(events)
        assert (p.message_id, p.talker_id, p.talker_name) == (
            ack2["message_id"],
            "worker_li",
            "李师傅",
        )
        assert p.room_id is None and p.room_topic is None
        assert (p.text, p.clean_text, p.mention_ids, p.mentions_self) == (
            "接 A7K3",
            "接 A7K3",
            (),
            False,
        )
        assert p.is_private

        # a room message without a mention is delivered, flagged as not for us
        await gateway.command(
            "room_say", room=gateway.room_id, **{"from": "worker_chen"}, text="有人去吗"
        )
        n = await next_message(events)
        assert (n.talker_id, n.mentions_self, n.mention_ids) == ("worker_chen", False, ())

        # replies: job card into the room mentioning the employer, confirmation 1:1
        card = "【岗位 A7K3】夏茂镇采茶5人 日结150元 联系138****5678 回复「接 A7K3」"
        await client.say_to_room(gateway.room_id, card, mention_ids=["employer_wang"])
        await client.say_to_contact("worker_li", "已为您接单 A7K3")
        room_say = await gateway.wait(
            lambda e: e.get("event") == "bot_say" and e["kind"] == "room"
        )
        assert room_say["conversation_id"] == gateway.room_id
        assert room_say["mention_ids"] == ["employer_wang"]
        assert room_say["text"] == f"@王老板{AT_SEPARATOR}{card}"
        assert "13812345678" not in room_say["text"]
        dm = await gateway.wait(lambda e: e.get("event") == "bot_say" and e["kind"] == "contact")
        assert (dm["conversation_id"], dm["text"], dm["mention_ids"]) == (
            "worker_li",
            "已为您接单 A7K3",
            [],
        )
        assert gateway.bot_says() == []  # exactly one room card and one DM

        # the mock echoes the bot's own sends as message events: they must not come back
        ack3 = await gateway.command("contact_say", **{"from": "worker_chen"}, text="接 ZZ99")
        nxt = await next_message(events)
        assert (nxt.message_id, nxt.talker_id) == (ack3["message_id"], "worker_chen")

        # raw mentions without the visible prefix
        await client.say_to_room(gateway.room_id, "请注意", ["worker_li"], prefix_mentions=False)
        raw = await gateway.wait(lambda e: e.get("event") == "bot_say")
        assert (raw["text"], raw["mention_ids"]) == ("请注意", ["worker_li"])

        h = client.health()
        assert h["connected"] and h["logged_in"] and h["self_id"] == gateway.self_id
    finally:
        await client.close()
    # after close the iterator ends cleanly
    assert [m async for m in client.events()] == []


@pytest.mark.asyncio
async def test_wrong_token_is_a_clean_auth_error(gateway):
    client = WechatyClient()
    t0 = time.monotonic()
    with pytest.raises(WechatyAuthError) as exc:
        await client.connect(gateway.endpoint, "insecure_wrong_token", timeout=5)
    assert time.monotonic() - t0 < 3
    msg = str(exc.value)
    assert "rejected the token" in msg
    assert gateway.endpoint in msg
    assert "insecure_wrong_token" not in msg  # never echo a token into logs
    # the gateway is still serving the right token afterwards
    ok = WechatyClient()
    await ok.connect(gateway.endpoint, gateway.token, timeout=5)
    assert await ok.wait_login(5) == gateway.self_id
    await ok.close()


@pytest.mark.asyncio
async def test_no_login_times_out_then_late_login_and_logout(gateway_factory):
    gw = gateway_factory("--no-login")
    assert gw.ready["logged_in"] is False
    client = WechatyClient()
    await client.connect(gw.endpoint, gw.token, timeout=10)
    try:
        t0 = time.monotonic()
        with pytest.raises(WechatyLoginTimeout) as exc:
            await client.wait_login(timeout=1.0)
        assert 0.9 < time.monotonic() - t0 < 3
        assert "not logged in" in str(exc.value)
        assert isinstance(exc.value, TimeoutError)
        # the account logs in later: the same client notices
        await gw.command("login")
        assert await client.wait_login(timeout=5) == gw.self_id
        # a logout ends the message stream with a clear error
        events = client.events()
        await gw.command("logout")
        with pytest.raises(WechatyLoggedOut):
            await next_message(events)
        assert not client.logged_in
    finally:
        await client.close()


@pytest.mark.asyncio
async def test_tls_gateway_and_unreachable_gateway_give_clean_errors(gateway_factory):
    gw = gateway_factory("--tls")
    client = WechatyClient()
    with pytest.raises(WechatyConnectionError) as exc:
        await client.connect(gw.endpoint, gw.token, timeout=5)
    assert "WECHATY_PUPPET_SERVICE_NO_TLS_INSECURE_SERVER=true" in str(exc.value)
    # nothing listens on a port we just saw closed
    port = gw.ready["port"]
    gw.stop()
    with pytest.raises(WechatyConnectionError):
        await WechatyClient().connect(f"127.0.0.1:{port}", gw.token, timeout=5)


@pytest.mark.asyncio
async def test_health_check_cli_exit_codes(gateway, gateway_factory):
    not_logged_in = gateway_factory("--no-login")

    def run(endpoint: str, token: str) -> subprocess.CompletedProcess:
        env = {**os.environ, "WECHATY_PUPPET_SERVICE_TOKEN": token, "PYTHONPATH": str(REPO)}
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "bot.adapters.wechaty_grpc",
                "--endpoint",
                endpoint,
                "--login-timeout",
                "1",
                "--connect-timeout",
                "5",
            ],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    ok, timeout_, bad_token = await asyncio.gather(
        asyncio.to_thread(run, gateway.endpoint, gateway.token),
        asyncio.to_thread(run, not_logged_in.endpoint, gateway.token),
        asyncio.to_thread(run, gateway.endpoint, "insecure_nope"),
    )
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout) == {"ok": True, "self_id": gateway.self_id}
    assert timeout_.returncode == 2, timeout_.stderr
    assert "no WeChat login" in timeout_.stderr
    assert bad_token.returncode == 3, bad_token.stderr
    assert "rejected the token" in bad_token.stderr
