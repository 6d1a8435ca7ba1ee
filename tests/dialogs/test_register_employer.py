from __future__ import annotations

from sqlalchemy import select

from storage.models import EmployerProfile
from tests.conftest import Chat


async def test_employer_registration(chat: Chat) -> None:
    r = await chat.say("我要招人")
    assert "严禁收取" in r
    await chat.say("1")
    r = await chat.say("黄老板 13959806789")
    assert "单位或店名" in r
    r = await chat.say("夏茂建筑队")
    assert "哪个乡镇" in r
    r = await chat.say("夏茂")
    assert "登记好了" in r and "夏茂建筑队" in r and "夏茂镇" in r
    async with chat.services.db.reader() as s:
        [e] = list((await s.execute(select(EmployerProfile))).scalars())
    assert (e.name, e.phone, e.company, e.town) == ("黄老板", "13959806789", "夏茂建筑队", "夏茂镇")


async def test_personal_employer_and_unknown_town(chat: Chat) -> None:
    for text in ["招工", "1", "陈姐 13859807890"]:
        await chat.say(text)
    r = await chat.say("个人")
    assert "哪个乡镇" in r
    r = await chat.say("北京")
    assert "没找到这个地方" in r
    r = await chat.say("凤岗街道")
    assert "登记好了" in r and "个人" in r
