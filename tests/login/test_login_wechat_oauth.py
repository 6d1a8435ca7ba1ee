"""WeChat 网页授权 against a fake authorize page and code exchange on 127.0.0.1."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest

from bot.login.wechat_oauth import OAuthError, WeChatWebAuth
from tests.fakes import unused_url
from tests.fakes.wechat_oauth import WeChatOAuthFake, wechat_oauth_fake

APPID = "wx0123456789abcdef"
SECRET = "fake0123456789abcdef0123456789ab"
OPENID = "o6_bmjrPTlm6_2sgVt7hMZOPfL2M"


@pytest.fixture
async def fake() -> AsyncIterator[WeChatOAuthFake]:
    async with wechat_oauth_fake(APPID, SECRET) as running:
        yield running


@pytest.fixture
async def auth(fake: WeChatOAuthFake) -> AsyncIterator[WeChatWebAuth]:
    client = WeChatWebAuth(APPID, SECRET, api_base=fake.url, open_base=fake.url)
    yield client
    await client.close()


def test_the_authorize_url_is_wechats() -> None:
    client = WeChatWebAuth(APPID, SECRET)
    url = client.authorize_url("https://lg.example.cn/login/wechat?next=/me", "s7a9", "snsapi_base")
    assert url == (
        "https://open.weixin.qq.com/connect/oauth2/authorize?appid=wx0123456789abcdef"
        "&redirect_uri=https%3A%2F%2Flg.example.cn%2Flogin%2Fwechat%3Fnext%3D%2Fme"
        "&response_type=code&scope=snsapi_base&state=s7a9#wechat_redirect"
    )
    with pytest.raises(ValueError):
        client.authorize_url("https://lg.example.cn/", "not a state!")
    with pytest.raises(ValueError):
        client.authorize_url("https://lg.example.cn/", "s", scope="snsapi_login")
    with pytest.raises(ValueError):
        client.authorize_url("/relative", "s")


async def test_code_gives_openid(fake: WeChatOAuthFake, auth: WeChatWebAuth) -> None:
    fake.codes["CODE_one-1"] = OPENID
    assert await auth.openid_for_code("CODE_one-1") == OPENID
    assert fake.exchanges == [
        {"appid": APPID, "secret": SECRET, "code": "CODE_one-1", "grant_type": "authorization_code"}
    ]


async def test_a_reused_code_is_refused(fake: WeChatOAuthFake, auth: WeChatWebAuth) -> None:
    fake.codes["once"] = OPENID
    assert await auth.openid_for_code("once") == OPENID
    with pytest.raises(OAuthError) as caught:
        await auth.openid_for_code("once")
    assert (caught.value.errcode, caught.value.kind, caught.value.retryable) == (40163, "code", False)


async def test_an_unknown_code_is_refused(auth: WeChatWebAuth) -> None:
    with pytest.raises(OAuthError) as caught:
        await auth.openid_for_code("neverissued")
    assert (caught.value.errcode, caught.value.kind) == (40029, "code")


async def test_a_wrong_secret_is_a_config_error(
    fake: WeChatOAuthFake, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake.codes["c1"] = OPENID
    client = WeChatWebAuth(APPID, "wrong-secret-value", api_base=fake.url)
    with pytest.raises(OAuthError) as caught:
        await client.openid_for_code("c1")
    await client.close()
    assert (caught.value.errcode, caught.value.kind) == (40125, "config")
    assert "wrong-secret-value" not in caplog.text and "wrong-secret-value" not in str(caught.value)


@pytest.mark.parametrize("code", ["", "has space", "semi;colon", "x" * 129, "中文"])
async def test_a_code_of_the_wrong_shape_is_refused_without_a_call(
    fake: WeChatOAuthFake, auth: WeChatWebAuth, code: str
) -> None:
    with pytest.raises(OAuthError) as caught:
        await auth.openid_for_code(code)
    assert caught.value.kind == "code"
    assert fake.exchanges == []


async def test_an_answer_without_a_proper_openid_is_refused(
    fake: WeChatOAuthFake, auth: WeChatWebAuth
) -> None:
    fake.codes["c2"] = "not an openid!"
    with pytest.raises(OAuthError) as caught:
        await auth.openid_for_code("c2")
    assert caught.value.kind == "answer"


async def test_a_snapshot_user_is_refused(fake: WeChatOAuthFake, auth: WeChatWebAuth) -> None:
    fake.codes["c3"] = OPENID
    fake.snapshot.add("c3")
    with pytest.raises(OAuthError) as caught:
        await auth.openid_for_code("c3")
    assert caught.value.kind == "snapshot"


async def test_wechat_down_is_retryable() -> None:
    client = WeChatWebAuth(APPID, SECRET, api_base=unused_url(), timeout=2.0)
    with pytest.raises(OAuthError) as caught:
        await client.openid_for_code("c4")
    await client.close()
    assert caught.value.retryable and caught.value.kind == "unavailable"
    assert SECRET not in str(caught.value)


async def test_the_whole_round_trip_through_the_authorize_page(
    fake: WeChatOAuthFake, auth: WeChatWebAuth
) -> None:
    """Browser → authorize URL → 302 back to us with code and state → code → openid."""
    fake.domain = "lg.example.cn"
    url = auth.authorize_url("https://lg.example.cn/login/wechat?next=/me", "abc123")
    async with aiohttp.ClientSession() as browser, browser.get(
        url.split("#", 1)[0], allow_redirects=False  # a browser never sends the fragment
    ) as resp:
        assert resp.status == 302
        back = urlsplit(resp.headers["Location"])
    assert (back.netloc, back.path) == ("lg.example.cn", "/login/wechat")
    query = {k: v[0] for k, v in parse_qs(back.query).items()}
    assert query["next"] == "/me" and query["state"] == "abc123"
    assert await auth.openid_for_code(query["code"]) == fake.user_openid
    assert fake.authorizations[0]["redirect_uri"] == "https://lg.example.cn/login/wechat?next=/me"


async def test_the_fake_refuses_a_redirect_outside_the_domain(
    fake: WeChatOAuthFake, auth: WeChatWebAuth
) -> None:
    fake.domain = "lg.example.cn"
    url = auth.authorize_url("https://evil.example.com/steal", "abc")
    async with aiohttp.ClientSession() as browser, browser.get(
        url.split("#", 1)[0], allow_redirects=False
    ) as resp:
        assert resp.status == 200 and "redirect_uri" in await resp.text()
    assert fake.codes == {}
