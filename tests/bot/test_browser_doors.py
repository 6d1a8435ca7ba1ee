"""The doors in real Chromium against a real `linggong serve`: logging in by phone + SMS code
(the SMS goes to a signature-checking 腾讯云 fake on 127.0.0.1), logging out, the kiosk forgetting
its visitor, and links from other people shown as plain text. At 390 px (a phone) and 1366 px."""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import aiohttp
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.bot.test_browser import ARTIFACTS, serve_subprocess
from tests.bot.test_login import TENCENT
from tests.channels.conftest import OA_APPID, OA_SECRET, OA_TOKEN, serving
from tests.fakes.tencent_sms import tencent_sms_fake
from tests.wechat_sim import OfficialAccountSim, deliver
from tests.wechat_sim.fake_api import FakeWeChatApi

pytestmark = pytest.mark.browser
SIZES = {"phone": (390, 844), "desktop": (1366, 900)}


def in_thread(make: Callable[[], AbstractAsyncContextManager[Any]]) -> Iterator[Any]:
    """Run an async fake (``async with make() as fake``) in its own thread and event loop, for
    the sync browser tests; yields the fake."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    holder: dict[str, Any] = {}

    async def main() -> None:
        holder["stop"] = asyncio.Event()
        async with make() as fake:
            holder["fake"] = fake
            ready.set()
            await holder["stop"].wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    assert ready.wait(10)
    yield holder["fake"]
    loop.call_soon_threadsafe(holder["stop"].set)
    thread.join(10)
    loop.close()


@pytest.fixture
def sms() -> Iterator[Any]:
    """A 腾讯云 SMS fake on 127.0.0.1."""
    yield from in_thread(lambda: tencent_sms_fake(TENCENT["TENCENT_SMS_SECRET_ID"], TENCENT["TENCENT_SMS_SECRET_KEY"]))


@asynccontextmanager
async def _wechat_api() -> AsyncIterator[FakeWeChatApi]:
    fake = FakeWeChatApi(appid=OA_APPID, secret=OA_SECRET)
    async with serving(fake.app()) as url:
        fake.url = url  # type: ignore[attr-defined]
        yield fake


@pytest.fixture
def wechat_api() -> Iterator[FakeWeChatApi]:
    """The 公众号 API fake (makes the kiosk's QR codes)."""
    yield from in_thread(_wechat_api)


@pytest.fixture
def login_server(db_url: str, sms: Any) -> Iterator[str]:
    yield from serve_subprocess(db_url, {"WEBCHAT_DEMO": "0", **TENCENT, "SMS_API_BASE": sms.url})


@pytest.fixture
def kiosk_server(db_url: str, sms: Any) -> Iterator[str]:
    yield from serve_subprocess(db_url, {"WEBCHAT_DEMO": "0", "WEBCHAT_KIOSK": "1", **TENCENT, "SMS_API_BASE": sms.url})


@pytest.fixture
def qr_kiosk_server(db_url: str, sms: Any, wechat_api: FakeWeChatApi) -> Iterator[str]:
    env = {"WEBCHAT_DEMO": "0", "WEBCHAT_KIOSK": "1", **TENCENT, "SMS_API_BASE": sms.url,
           "WECHAT_OA_TOKEN": OA_TOKEN, "WECHAT_OA_APPID": OA_APPID, "WECHAT_OA_SECRET": OA_SECRET,
           "WECHAT_API_BASE": wechat_api.url}  # type: ignore[attr-defined]
    yield from serve_subprocess(db_url, env)


@pytest.fixture
def demo_server(db_url: str) -> Iterator[str]:
    yield from serve_subprocess(db_url, {"WEBCHAT_DEMO": "1"})


def _page(chromium: Browser, size: str) -> Page:
    w, h = SIZES[size]
    page = chromium.new_context(viewport={"width": w, "height": h}, locale="zh-CN").new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.errors = errors  # type: ignore[attr-defined]
    return page


def _wait_sent(sms: Any, n: int) -> tuple[str, str]:
    deadline = time.monotonic() + 10
    while len(sms.sent) < n:
        assert time.monotonic() < deadline, "no SMS reached the fake"
        time.sleep(0.05)
    return sms.sent[n - 1]  # type: ignore[no-any-return]


def _log_in(page: Page, sms: Any, phone: str) -> None:
    n = len(sms.sent)
    page.fill("#phone", phone)
    page.click("#get-code")
    expect(page.locator("#login-info")).to_contain_text("验证码已发到")
    _, code = _wait_sent(sms, n + 1)
    page.fill("#code", code)
    page.click("#do-login")
    expect(page.locator("#chat")).to_be_visible()


@pytest.mark.parametrize("size", list(SIZES))
def test_phone_login_and_logout(login_server: str, sms: Any, chromium: Browser, size: str) -> None:
    page = _page(chromium, size)
    page.goto(login_server + "/")
    expect(page.locator("#login")).to_be_visible()
    expect(page.locator("#personas")).to_have_count(0)  # no persona list in login mode
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"webchat-login-{size}.png"), full_page=True)

    page.fill("#phone", "12345")
    page.click("#get-code")
    expect(page.locator("#login-error")).to_contain_text("11 位手机号")
    _log_in(page, sms, "13905986666")
    expect(page.locator("#me")).to_contain_text("尾号6666")
    page.fill("#text", "帮助")
    page.click("button.send")
    expect(page.locator(".msg.bot .bubble").last).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / f"webchat-logged-in-{size}.png"), full_page=True)

    page.reload()  # the server remembers the session, not the page
    expect(page.locator("#me")).to_contain_text("尾号6666")
    page.click("#switch")  # 退出登录
    expect(page.locator("#login")).to_be_visible()
    page.reload()
    expect(page.locator("#login")).to_be_visible()
    blocked = [e for e in page.errors if "Content Security Policy" in e or "Refused to" in e]  # type: ignore[attr-defined]
    assert blocked == []  # nothing of the page is blocked by its own CSP


def test_kiosk_forgets_each_visitor(kiosk_server: str, sms: Any, chromium: Browser) -> None:
    page = _page(chromium, "desktop")
    page.goto(kiosk_server + "/")
    expect(page.locator("#login h1")).to_contain_text("自助机")
    _log_in(page, sms, "13905987777")
    page.fill("#text", "帮助")
    page.click("button.send")
    expect(page.locator(".msg.bot .bubble").last).to_be_visible()
    # The visitor walks away without 结束; the next one opens the page: nothing of the first.
    page.goto(kiosk_server + "/")
    expect(page.locator("#login")).to_be_visible()
    expect(page.locator(".msg")).to_have_count(0)
    _log_in(page, sms, "13905988888")
    expect(page.locator("#me")).to_contain_text("尾号8888")
    expect(page.locator("#switch")).to_have_text("结束使用")
    page.fill("#text", "结束")
    page.click("button.send")
    expect(page.locator("#login")).to_be_visible()
    expect(page.locator(".msg")).to_have_count(0)
    page.screenshot(path=str(ARTIFACTS / "webchat-kiosk-after.png"), full_page=True)


def test_kiosk_qr_login_with_confirmation(qr_kiosk_server: str, wechat_api: FakeWeChatApi, chromium: Browser) -> None:
    page = _page(chromium, "desktop")
    page.goto(qr_kiosk_server + "/")
    expect(page.locator("#qr-image")).to_have_attribute("src", re.compile(r"^data:image/svg\+xml"))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "webchat-kiosk-qr.png"), full_page=True)
    scene = list(wechat_api.qr_scenes.values())[-1]
    sim = OfficialAccountSim(token=OA_TOKEN, appid=OA_APPID)

    async def scan() -> str:
        async with aiohttp.ClientSession() as http:
            scanned = sim.event("oKioskVisitor_0000000001", "SCAN", scene)
            r = await deliver(http, qr_kiosk_server + "/wechat/oa", scanned)
            reply = sim.read_reply(r.body)
            return reply["Content"] if reply else ""

    with ThreadPoolExecutor(1) as pool:  # Playwright's own loop runs in this thread
        assert "自助机上登录" in pool.submit(asyncio.run, scan()).result(timeout=30)
    expect(page.locator("#qr-confirm")).to_be_visible()
    expect(page.locator("#qr-name")).to_have_text("微信用户")
    expect(page.locator("#qr-image")).to_be_hidden()  # no second scan while the visitor confirms
    page.screenshot(path=str(ARTIFACTS / "webchat-kiosk-qr-confirm.png"), full_page=True)
    page.click("#qr-yes")
    expect(page.locator("#chat")).to_be_visible()
    expect(page.locator("#switch")).to_have_text("结束使用")
    page.click("#switch")
    expect(page.locator("#qr-image")).to_be_visible()  # a fresh code for the next visitor


def test_other_peoples_links_are_plain_text(demo_server: str, chromium: Browser) -> None:
    a, b = _page(chromium, "phone"), _page(chromium, "phone")
    for page, name in ((a, "发链接的"), (b, "看链接的")):
        page.goto(demo_server + "/")
        page.fill("#new-name", name)
        page.click("button[data-role=worker]")
        expect(page.locator("#me")).to_contain_text(name)
        page.locator(".tab", has_text="夏茂镇零工群").click()
    lure = f"合同在这 {demo_server}/contracts/1/AAAAAAAAAAAAAAAAAAAAAA.pdf 还有 https://evil.example/pay?x=1 领红包"
    a.fill("#text", lure)
    a.click("button.send")
    bubble = b.locator(".msg .bubble", has_text="领红包").last
    expect(bubble).to_be_visible()
    assert bubble.locator("a").count() == 0  # a person's links are never made clickable
    text = bubble.inner_text()
    assert "https://evil.example/pay?x=1（外部网址：evil.example）" in text
    assert "点这里看合同全文" not in text
    b.screenshot(path=str(ARTIFACTS / "webchat-foreign-links.png"), full_page=True)
