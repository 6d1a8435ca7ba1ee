"""Two people in two real Chromium windows walk the whole chain in the web chat: an employer
posts, a worker takes, both confirm the price and sign, the employer confirms completion and
records payment, the worker disputes it, they negotiate to an agreement."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.bot.test_browser import ARTIFACTS

pytestmark = pytest.mark.browser


def _person(browser: Browser, url: str, name: str, role: str) -> Page:
    page = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN").new_page()
    page.set_default_timeout(15_000)
    page.goto(url + "/")
    page.fill("#new-name", name)
    page.click(f"button[data-role={role}]")
    expect(page.locator("#me")).to_contain_text(name)
    return page


def _new_bubble_with(page: Page, before: int, text: str) -> str:
    """Wait for a bot message after the first ``before`` ones that contains ``text``."""
    handle = page.wait_for_function(
        """([before, text]) => {
            const all = [...document.querySelectorAll('.msg.bot .bubble')].slice(before);
            const hit = all.reverse().find(b => b.innerText.includes(text));
            return hit ? hit.innerText : null;
        }""",
        arg=[before, text],
        timeout=15_000,
    )
    return str(handle.json_value())


def say(page: Page, text: str, expect_text: str) -> str:
    before = page.locator(".msg.bot").count()
    page.fill("#text", text)
    page.click("button.send")
    return _new_bubble_with(page, before, expect_text)


def wait_for(page: Page, text: str) -> str:
    return _new_bubble_with(page, 0, text)


def test_two_people_walk_the_whole_chain(server: str, chromium: Browser) -> None:
    boss = _person(chromium, server, "黄老板", "employer")
    for text, needle in [("雇主登记", "同意并开始"), ("1", "称呼和手机号"), ("黄老板 13959806789", "单位"),
                         ("夏茂建筑队", "哪个乡镇"), ("夏茂", "登记好了")]:
        say(boss, text, needle)
    say(boss, "招工", "招工信息发给我")
    say(boss, "招泥水工1名 明天早上7点 夏茂镇 一天380", "怎么定人")
    say(boss, "1", "意外险")
    say(boss, "1", "请确认")
    posted = say(boss, "1", "发布好了")
    code = re.search(r"招工编号 (\d+)", posted).group(1)  # type: ignore[union-attr]

    worker = _person(chromium, server, "刘师傅", "worker")
    for text, needle in [("登记", "同意并开始"), ("1", "称呼和手机号"), ("刘师傅 13905987777", "会做什么活"),
                         ("泥水工", "在哪里干活"), ("夏茂", "什么时候"), ("1", "最少多少钱"), ("300", "登记好了")]:
        say(worker, text, needle)
    # New orders go to priority workers first (30 minutes), so this worker looks it up by code.
    assert f"接 {code}" in say(worker, f"看 {code}", f"【招工 {code}】")
    say(worker, f"接 {code}", "接单成功")
    wait_for(boss, "刘师傅")

    # Price, then the contract, signed by both with its code; the PDF link is there.
    say(worker, f"确认 {code}", "价格已确认")
    offer = wait_for(worker, "电子合同")
    sign = re.search(r"同意 (\d{6})", offer).group(1)  # type: ignore[union-attr]
    # The link points at the port actually served (not a fixed :8080) and carries a random token.
    href = worker.locator(".msg.bot .bubble a").last.get_attribute("href") or ""
    assert re.fullmatch(re.escape(server) + r"/contracts/\d+/[A-Za-z0-9_-]{22}\.pdf", href), href
    assert worker.locator(".msg.bot .bubble a").last.inner_text() == "点这里看合同全文"
    wait_for(boss, "电子合同")
    worker.fill("#text", f"同意 {sign}")  # the answer is a notification to the other side
    worker.click("button.send")
    wait_for(boss, "对方已签字")
    say(boss, f"同意 {sign}", "双方已签字")
    wait_for(worker, "双方已签字")

    # Completion and payment; the worker disputes the amount and they agree on 350.
    say(boss, f"完工 {code}", "干了多少天")
    say(boss, "1", "已确认完工")
    wait_for(worker, "应得 380元")
    say(boss, f"已付 {code} 1 200", "已登记付款")
    wait_for(worker, "老板说已付您 200元")
    say(worker, f"没收到 {code}", "已告诉老板")
    say(worker, f"投诉 {code}", "遇到什么问题")
    say(worker, "2", "简单说说情况")
    opened = say(worker, "说好380，只给了200还说没付", "已立案")
    case = re.search(r"案件 (\d+)", opened).group(1)  # type: ignore[union-attr]
    wait_for(boss, "协商")
    say(boss, f"方案 {case} 300", "方案已发给对方")
    wait_for(worker, "300元")
    say(worker, f"方案 {case} 350", "方案已发给对方")
    wait_for(boss, "350元")
    boss.fill("#text", f"同意方案 {case}")
    boss.click("button.send")
    wait_for(boss, "已解决")
    wait_for(worker, "已解决")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    worker.screenshot(path=str(ARTIFACTS / "webchat-chain-worker.png"), full_page=True)
