"""What the 公众号 and 企业微信 callbacks let in, over real HTTP on loopback with the independent
simulator: any Content-Type (the signature is the check), no replayed signature (shared by every
process through the database), no plaintext once the 公众号 has its AES key (unless 兼容模式)."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.app import Services
from bot.config import AppConfig
from bot.jobs import JOBS, market_job
from storage.db import Database
from storage.models import CallbackNonce, InboundRecord
from storage.repositories import CallbackNonceRepository
from tests.channels.conftest import (
    AES_KEY,
    CORP_ID,
    OA_APPID,
    OA_TOKEN,
    channel_config,
    running_services,
    serving_services,
)
from tests.wechat_sim import OfficialAccountSim, SimRequest, WeComSim

OA = "/wechat/oa"
WECOM = "/wechat/wecom"
ENV = {
    "WECHAT_OA_TOKEN": OA_TOKEN,
    "WECHAT_OA_APPID": OA_APPID,
    "WECOM_CORP_ID": CORP_ID,
    "WECOM_TOKEN": OA_TOKEN,
    "WECOM_AES_KEY": AES_KEY,
}


async def count(services: Services, model, **where) -> int:  # type: ignore[no-untyped-def]
    async with services.db.reader() as s:
        stmt = select(func.count()).select_from(model)
        for k, v in where.items():
            stmt = stmt.where(getattr(model, k) == v)
        return int(await s.scalar(stmt) or 0)


@asynccontextmanager
async def live(cfg: AppConfig, db, clock) -> AsyncIterator[tuple[Services, str, aiohttp.ClientSession]]:  # type: ignore[no-untyped-def]
    """The real app on loopback and an HTTP client: (services, base URL, client)."""
    async with (
        running_services(cfg, db, clock) as services,
        serving_services(services) as base,
        aiohttp.ClientSession() as http,
    ):
        yield services, base, http


async def post(
    http: aiohttp.ClientSession, url: str, req: SimRequest, content_type: str | None = "text/xml"
) -> tuple[int, bytes]:
    """POST ``req`` with the given Content-Type header (None: no Content-Type at all)."""
    headers = {} if content_type is None else {"Content-Type": content_type}
    async with http.request(
        req.method,
        req.url(url),
        data=req.body,
        headers=headers,
        skip_auto_headers=["Content-Type"],
    ) as r:
        return r.status, await r.read()


# --------------------------------------------------------------------------- Content-Type
@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/x-www-form-urlencoded", None],
    ids=["json", "form", "none"],
)
async def test_the_xml_body_is_read_whatever_its_content_type(
    db_url, db, clock, content_type
) -> None:
    """WeChat promises no Content-Type; the signature, the size cap and defusedxml are the
    checks. A body labelled JSON or form data, or not labelled at all, is still the message."""
    cfg = channel_config(db_url, **ENV, WECHAT_OA_AES_KEY=AES_KEY)
    plain = OfficialAccountSim(token=OA_TOKEN, appid=OA_APPID)
    safe = OfficialAccountSim(
        token=OA_TOKEN, appid=OA_APPID, encoding_aes_key=AES_KEY, safe_mode=True
    )
    wc = WeComSim(token=OA_TOKEN, corp_id=CORP_ID, encoding_aes_key=AES_KEY)
    async with live(cfg, db, clock) as (services, base, http):
        status, body = await post(http, base + OA, safe.text("o_ctype", "帮助"), content_type)
        assert status == 200, body
        assert "怎么用" in safe.read_reply(body)["Content"]  # type: ignore[index]
        status, body = await post(http, base + WECOM, wc.text("ctype", "帮助"), content_type)
        assert status == 200, body
        assert "怎么用" in wc.read_reply(body)["Content"]  # type: ignore[index]
        # the label changes nothing about the other checks
        bad = plain.with_bad_signature(plain.text("o_ctype", "帮助"))
        assert (await post(http, base + OA, bad, content_type))[0] == 403
        junk = safe.text("o_ctype", "x").with_body(b"not xml at all")
        assert (await post(http, base + OA, junk, content_type))[0] == 400
        big = safe.text("o_ctype", "x").with_body(b"<xml>" + b"x" * 70_000 + b"</xml>")
        assert (await post(http, base + OA, big, content_type))[0] == 413
    assert await count(services, InboundRecord) == 2


# --------------------------------------------------------------------------- downgrade
async def test_with_the_aes_key_a_plaintext_message_is_refused(db_url, db, clock) -> None:
    """In plaintext mode the signature covers timestamp and nonce only, not the body: once the
    EncodingAESKey is configured, a plaintext message (without ``encrypt_type=aes`` and
    ``msg_signature``) is a downgrade and is refused — the 企业微信 is always encrypted."""
    cfg = channel_config(db_url, **ENV, WECHAT_OA_AES_KEY=AES_KEY)
    assert cfg.wechat_oa.compat_mode is False
    plain = OfficialAccountSim(token=OA_TOKEN, appid=OA_APPID)
    safe = OfficialAccountSim(
        token=OA_TOKEN, appid=OA_APPID, encoding_aes_key=AES_KEY, safe_mode=True
    )
    wc = WeComSim(token=OA_TOKEN, corp_id=CORP_ID, encoding_aes_key=AES_KEY)
    async with live(cfg, db, clock) as (services, base, http):
        status, _ = await post(http, base + OA, plain.text("o_down", "帮助"))
        assert status == 403
        # a safe-mode request stripped down to plaintext: the signatures still verify
        enc = safe.text("o_down", "帮助")
        stripped = plain.text("o_down", "帮助")
        for params in (
            {k: v for k, v in enc.params.items() if k not in ("encrypt_type", "msg_signature")},
            {k: v for k, v in enc.params.items() if k != "encrypt_type"},
            {k: v for k, v in enc.params.items() if k != "msg_signature"},
        ):
            req = SimRequest("POST", params, stripped.body)
            assert (await post(http, base + OA, req))[0] == 403, params
        # 企业微信: a plaintext body under a valid msg_signature is refused too
        wreq = wc.text("down", "帮助")
        assert (await post(http, base + WECOM, wreq.with_body(wreq.inner_xml.encode())))[0] in (
            400,
            403,
        )
        assert await count(services, InboundRecord) == 0
        # the real thing still works
        status, body = await post(http, base + OA, safe.text("o_down", "帮助"))
        assert status == 200 and "怎么用" in safe.read_reply(body)["Content"]  # type: ignore[index]
    assert await count(services, InboundRecord) == 1


async def test_compat_mode_accepts_plaintext_beside_safe_mode(db_url, db, clock) -> None:
    """兼容模式 (``WECHAT_OA_COMPAT_MODE=1``): while the MP console is switched over, plaintext
    messages are accepted beside safe-mode ones."""
    cfg = channel_config(db_url, **ENV, WECHAT_OA_AES_KEY=AES_KEY, WECHAT_OA_COMPAT_MODE="1")
    assert cfg.wechat_oa.compat_mode is True
    off = channel_config(db_url, **ENV, WECHAT_OA_AES_KEY=AES_KEY, WECHAT_OA_COMPAT_MODE="0")
    assert off.wechat_oa.compat_mode is False
    plain = OfficialAccountSim(token=OA_TOKEN, appid=OA_APPID)
    safe = OfficialAccountSim(
        token=OA_TOKEN, appid=OA_APPID, encoding_aes_key=AES_KEY, safe_mode=True
    )
    async with live(cfg, db, clock) as (services, base, http):
        for sim in (plain, safe):
            status, body = await post(http, base + OA, sim.text("o_compat", "帮助"))
            assert status == 200 and "怎么用" in sim.read_reply(body)["Content"]  # type: ignore[index]
        bad = safe.with_bad_signature(safe.text("o_compat", "帮助"))  # still checked
        assert (await post(http, base + OA, bad))[0] == 403
        # a captured safe-mode request cannot be spent again as a plaintext one
        req = safe.text("o_compat", "菜单")
        assert (await post(http, base + OA, req))[0] == 200
        stripped = {k: v for k, v in req.params.items() if k not in ("encrypt_type", "msg_signature")}
        forged = plain.text("o_compat", "登记")
        assert (await post(http, base + OA, SimRequest("POST", stripped, forged.body)))[0] == 403
    assert await count(services, InboundRecord) == 3


# --------------------------------------------------------------------------- replay
def nonce_key(req: SimRequest) -> str:
    p = req.params
    sigs = [p[k] for k in ("signature", "msg_signature") if k in p]
    return hashlib.sha256("".join((p["timestamp"], p["nonce"], *sigs)).encode()).hexdigest()


async def nonces(services: Services) -> dict[tuple[str, str], datetime]:
    async with services.db.reader() as s:
        rows = (await s.execute(select(CallbackNonce))).scalars().all()
    return {(r.channel, r.key): r.expires_at for r in rows}


@pytest.mark.parametrize("safe_mode", [False, True], ids=["plaintext", "aes"])
async def test_a_replayed_oa_signature_is_refused_whatever_the_body(
    db_url, db, clock, safe_mode
) -> None:
    env = dict(ENV, WECHAT_OA_AES_KEY=AES_KEY) if safe_mode else ENV
    cfg = channel_config(db_url, **env)
    sim = OfficialAccountSim(
        token=OA_TOKEN, appid=OA_APPID, encoding_aes_key=AES_KEY, safe_mode=safe_mode
    )
    who = "oReplay_000000000000000001"
    async with live(cfg, db, clock) as (services, base, http):
        first = sim.text(who, "帮助", msg_id=5001)
        status, body = await post(http, base + OA, first)
        assert status == 200 and "怎么用" in sim.read_reply(body)["Content"]  # type: ignore[index]
        # the captured request again: refused, with its own body or another one
        assert (await post(http, base + OA, first))[0] == 403
        other = sim.text(who, "登记", msg_id=5002)
        assert (await post(http, base + OA, first.with_body(other.body)))[0] == 403
        # WeChat's own retry is signed afresh: not a replay, deduplicated by MsgId
        status, body = await post(http, base + OA, first.retry())
        assert status == 200 and "怎么用" in sim.read_reply(body)["Content"]  # type: ignore[index]
        # two copies at once: exactly one gets through
        twin = sim.text(who, "菜单", msg_id=5003)
        got = await asyncio.gather(*(post(http, base + OA, twin) for _ in range(2)))
        assert sorted(status for status, _ in got) == [200, 403]
        # nor are a message answered without the dialogs (voice not recognised), an
        # unsubscribe, or an ignored event (VIEW)
        for req in (
            sim.voice(who, None, msg_id=5005),
            sim.event("oGone_00000000000000000001", "unsubscribe", create_time=1764115302),
            sim.event(who, "VIEW", "http://x", create_time=1764115303),
        ):
            assert (await post(http, base + OA, req))[0] == 200
            assert (await post(http, base + OA, req))[0] == 403
        # a request refused after its signature verified has spent it all the same (safe
        # mode: its msg_signature covers the body, which is what got refused)
        junk = sim.text(who, "x").with_body(b"not xml at all")
        assert (await post(http, base + OA, junk))[0] == 400
        again = sim.text(who, "找活", msg_id=5004)
        assert (await post(http, base + OA, junk.with_body(again.body)))[0] == 403
        # URL verification (GET) cannot be replayed either
        verify, echo = sim.verification()
        async with http.get(verify.url(base + OA)) as r:
            assert (r.status, await r.text()) == (200, echo)
        async with http.get(verify.url(base + OA)) as r:
            assert r.status == 403
    assert await count(services, InboundRecord) == 4  # 帮助, 菜单, the voice, the unsubscribe
    spent = await nonces(services)
    skew = cfg.wechat_oa.max_clock_skew_seconds
    assert spent[("wechat_oa", nonce_key(first))] == clock() + timedelta(seconds=2 * skew)
    # first, its retry, twin, voice, unsubscribe, view, verify (+ junk in plaintext mode);
    # the refusals add nothing
    assert len(spent) == (7 if safe_mode else 8)


async def test_a_replay_is_refused_by_every_process(db_url, db, clock) -> None:
    """The spent signatures live in the database: a second process (here: a second app with its
    own database engine) refuses what the first accepted."""
    cfg = channel_config(db_url, **ENV)
    sim = OfficialAccountSim(token=OA_TOKEN, appid=OA_APPID)
    other_db = Database(db_url)
    try:
        async with (
            live(cfg, db, clock) as (services, base, http),
            running_services(cfg, other_db, clock) as services2,
            serving_services(services2) as base2,
        ):
            req = sim.text("oTwoProcs_00000000000001", "帮助", msg_id=6001)
            assert (await post(http, base + OA, req))[0] == 200
            assert (await post(http, base2 + OA, req))[0] == 403
            verify, _ = sim.verification()
            async with http.get(verify.url(base2 + OA)) as r:
                assert r.status == 200
            async with http.get(verify.url(base + OA)) as r:
                assert r.status == 403
    finally:
        await other_db.dispose()
    assert await count(services, InboundRecord) == 1


async def test_a_replayed_wecom_signature_is_refused(db_url, db, clock) -> None:
    cfg = channel_config(db_url, **ENV)
    wc = WeComSim(token=OA_TOKEN, corp_id=CORP_ID, encoding_aes_key=AES_KEY)
    async with live(cfg, db, clock) as (services, base, http):
        first = wc.text("lisi", "帮助", msg_id=7001)
        status, body = await post(http, base + WECOM, first)
        assert status == 200 and "怎么用" in wc.read_reply(body)["Content"]  # type: ignore[index]
        assert (await post(http, base + WECOM, first))[0] == 403
        status, body = await post(http, base + WECOM, first.retry())  # WeCom's retry: fine
        assert status == 200 and "怎么用" in wc.read_reply(body)["Content"]  # type: ignore[index]
        verify, echo = wc.verification()
        async with http.get(verify.url(base + WECOM)) as r:
            assert (r.status, await r.text()) == (200, echo)
        async with http.get(verify.url(base + WECOM)) as r:
            assert r.status == 403
    assert await count(services, InboundRecord) == 1
    assert ("wecom", nonce_key(first)) in await nonces(services)


async def test_spent_signatures_are_forgotten_after_their_window(db_url, db, clock) -> None:
    cfg = channel_config(db_url, **ENV)
    async with running_services(cfg, db, clock) as services:
        async with services.db.transaction() as s:
            repo = CallbackNonceRepository(s)
            assert await repo.first_use(channel="wechat_oa", key="a" * 64, expires_at=clock())
            assert await repo.first_use(
                channel="wechat_oa", key="b" * 64, expires_at=clock() + timedelta(minutes=20)
            )
            assert await repo.first_use(channel="wecom", key="a" * 64, expires_at=clock())
            assert not await repo.first_use(
                channel="wechat_oa", key="a" * 64, expires_at=clock() + timedelta(hours=1)
            )
        expire, every = JOBS["callbacks.nonces_expire"]
        assert every == 600
        await market_job(services, "callbacks.nonces_expire", expire, every)()
        assert set(await nonces(services)) == {("wechat_oa", "b" * 64)}
        clock.advance(minutes=21)
        await market_job(services, "callbacks.nonces_expire", expire, every)()
        assert await nonces(services) == {}
