"""A person in real Chromium registers as a worker through the web chat of a real server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = ROOT / "var" / "test-artifacts"

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve_subprocess(db_url: str, env_extra: dict[str, str] | None = None, *, demo_data: bool = False) -> Iterator[str]:
    """A real `linggong serve` on a free port of 127.0.0.1 (optionally after `demo load`); its URL."""
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": db_url, "LOG_LEVEL": "WARNING", **(env_extra or {})}
    base = [sys.executable, "-m", "bot", "--config", str(ROOT / "config.yaml")]
    if demo_data:
        subprocess.run([*base, "demo", "load"], env=env, cwd=ROOT, check=True, timeout=120)
    proc = subprocess.Popen([*base, "serve", "--port", str(port)], env=env, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(url + "/healthz", timeout=1)
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("server did not start") from None
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture
def page() -> Iterator[Page]:
    assert Path(CHROMIUM).exists(), f"Chromium not found at {CHROMIUM}: run `make test` (installs it)"
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        ctx = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
        pg = ctx.new_page()
        pg.set_default_timeout(15_000)
        yield pg
        browser.close()


def _send(page: Page, text: str) -> None:
    page.fill("#text", text)
    page.click("button.send")


def _last_bot(page: Page):  # type: ignore[no-untyped-def]
    return page.locator(".msg.bot .bubble").last


def test_register_worker_in_browser(server: str, page: Page) -> None:
    page.goto(server + "/")
    expect(page.locator("#personas .persona")).to_have_count(8)  # the demo personas
    page.fill("#new-name", "刘阿姨")
    page.click("button[data-role=worker]")
    expect(page.locator("#me")).to_contain_text("刘阿姨")

    _send(page, "登记")
    expect(_last_bot(page)).to_contain_text("回 1 同意并开始")
    page.locator("#choices button", has_text="1").first.click()  # tap the numbered choice
    expect(_last_bot(page)).to_contain_text("称呼和手机号")
    _send(page, "刘阿姨 13905987777")
    expect(_last_bot(page)).to_contain_text("会做什么活")
    _send(page, "保洁 做饭")
    expect(_last_bot(page)).to_contain_text("在哪里干活")
    _send(page, "凤岗")
    expect(_last_bot(page)).to_contain_text("什么时候能干活")
    _send(page, "4")
    expect(_last_bot(page)).to_contain_text("最少多少钱")
    _send(page, "一百二")
    expect(_last_bot(page)).to_contain_text("登记好了")
    done = _last_bot(page).inner_text()
    assert "刘阿姨" in done and "13905987777" in done and "凤岗街道" in done and "120元/天" in done

    # Large, readable text on a phone-width screen.
    size = page.eval_on_selector(".msg .bubble", "e => parseFloat(getComputedStyle(e).fontSize)")
    assert size >= 18
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "webchat-register.png"), full_page=True)

    # After a reload the same persona and the conversation are still there.
    page.reload()
    expect(page.locator("#me")).to_contain_text("刘阿姨")
    expect(_last_bot(page)).to_contain_text("登记好了")


def test_group_room_in_browser(server: str, page: Page) -> None:
    page.goto(server + "/")
    page.locator(".persona", has_text="黄老板").click()
    page.locator(".tab", has_text="夏茂镇零工群").click()
    _send(page, "@零工小助手 在吗")
    expect(page.locator(".msg.bot .bubble").last).to_contain_text("私聊")
