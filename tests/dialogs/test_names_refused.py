"""Registration refuses names and companies that imitate the bot or the staff, and asks again
(whole conversations through the real engine, SQLite and PostgreSQL)."""

from __future__ import annotations

from sqlalchemy import select

from dialogs import texts
from storage.models import EmployerProfile, WorkerProfile
from tests.conftest import Chat

NAME_REFUSED = texts.NAME_IMPERSONATES.split("「")[0]
COMPANY_REFUSED = texts.COMPANY_IMPERSONATES.split("「")[0]


async def test_worker_name_imitating_staff_is_refused_and_asked_again(chat: Chat) -> None:
    await chat.say("登记")
    await chat.say("1")
    r = await chat.say("客服小王 13905981234")
    assert NAME_REFUSED in r and "「客服」" in r
    assert texts.ASK_NAME_PHONE in r  # the same question again
    r = await chat.say("零工 小\u200b助手 13905981234")  # a space and a zero-width space inside
    assert NAME_REFUSED in r and "「零工小助手」" in r
    r = await chat.say("13905981234")  # the phone alone; then the name is asked by itself
    assert "怎么称呼" in r
    r = await chat.say("官方·管理员")
    assert NAME_REFUSED in r and texts.ASK_NAME_ONLY in r
    r = await chat.say("ＫｅＦｕ")
    assert NAME_REFUSED in r and "kefu" in r
    r = await chat.say("刘德福")
    assert "会做什么活" in r
    for answer in ["泥水工", "夏茂", "1", "0"]:
        r = await chat.say(answer)
    assert "登记好了" in r
    async with chat.services.db.reader() as s:
        w = (await s.execute(select(WorkerProfile))).scalar_one()
    assert (w.name, w.phone) == ("刘德福", "13905981234")


async def test_ordinary_names_pass(make_chat) -> None:  # type: ignore[no-untyped-def]
    for i, name in enumerate(["张师傅", "李姐", "黄老板", "王建国"]):
        c: Chat = make_chat(f"w{i}")
        await c.say("登记")
        await c.say("1")
        r = await c.say(f"{name} 1390598123{i}")
        assert "会做什么活" in r, (name, r)


async def test_employer_name_and_company_imitating_the_platform_are_refused(chat: Chat) -> None:
    await chat.say("雇主登记")
    await chat.say("1")
    r = await chat.say("人社局王科长 13959806789")
    assert NAME_REFUSED in r and "「人社」" in r
    r = await chat.say("黄老板 13959806789")
    assert texts.ASK_COMPANY in r
    r = await chat.say("沙县区零工市场官方招聘")
    assert COMPANY_REFUSED in r and "「零工市场」" in r and texts.ASK_COMPANY in r
    r = await chat.say("零工小助手\ufe0f劳务")
    assert COMPANY_REFUSED in r and "「零工小助手」" in r
    r = await chat.say("夏茂建筑队")
    assert "哪个乡镇" in r
    r = await chat.say("夏茂")
    assert "登记好了" in r
    async with chat.services.db.reader() as s:
        e = (await s.execute(select(EmployerProfile))).scalar_one()
    assert (e.name, e.company) == ("黄老板", "夏茂建筑队")


async def test_profile_edits_refuse_imitations_too(chat: Chat) -> None:
    for answer in ["雇主登记", "1", "黄老板 13959806789", "夏茂建筑队", "夏茂"]:
        await chat.say(answer)
    await chat.say("我的资料")
    r = await chat.say("2")
    assert texts.ASK_COMPANY in r
    r = await chat.say("政府采购平台")
    assert COMPANY_REFUSED in r
    r = await chat.say("凤岗茶厂")
    assert texts.PROFILE_SAVED in r and "凤岗茶厂" in r
    await chat.say("我的资料")
    await chat.say("1")
    r = await chat.say("系统管理员 13959806789")
    assert NAME_REFUSED in r
    r = await chat.say("黄师傅 13959806789")
    assert texts.PROFILE_SAVED in r
    async with chat.services.db.reader() as s:
        e = (await s.execute(select(EmployerProfile))).scalar_one()
    assert (e.name, e.company) == ("黄师傅", "凤岗茶厂")
