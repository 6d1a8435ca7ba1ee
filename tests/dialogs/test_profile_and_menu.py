from __future__ import annotations

from sqlalchemy import select

from storage.models import WorkerProfile
from tests.conftest import Chat

REGISTER = ["登记", "1", "张三 13912345678", "小工", "凤岗", "1", "150"]


async def _register(chat: Chat) -> None:
    for text in REGISTER:
        await chat.say(text)


async def test_menu_numbers_lead_to_flows(chat: Chat) -> None:
    r = await chat.say("菜单")
    assert "1 我要找活" in r and "6 帮助和热线" in r
    r = await chat.say("9")
    assert "1 到 6" in r
    r = await chat.say("6")
    assert "热线" in r
    await chat.say("菜单")
    r = await chat.say("1")
    assert "回 1 同意并开始" in r


async def test_unknown_text_shows_menu(chat: Chat) -> None:
    r = await chat.say("你们这个是干嘛的呀我不太懂")
    assert "没听懂" in r and "1 我要找活" in r


async def test_profile_view_and_edit(chat: Chat) -> None:
    r = await chat.say("我的资料")
    assert "还没有登记" in r and "1 我要找活" in r
    await _register(chat)
    r = await chat.say("我的资料")
    assert "张三" in r and "13912345678" in r and "要改哪一项" in r
    r = await chat.say("2")
    assert "会做什么活" in r
    r = await chat.say("电工 水电工")
    assert "改好了" in r and "电工" in r
    await chat.say("资料")
    await chat.say("5")
    r = await chat.say("一小时30")
    assert "30元/小时" in r
    await chat.say("我的资料")
    await chat.say("1")
    r = await chat.say("张三丰 13912340000")
    assert "张三丰" in r and "13912340000" in r
    async with chat.services.db.reader() as s:
        w = (await s.execute(select(WorkerProfile))).scalar_one()
    assert w.name == "张三丰" and w.min_wage_fen == 3000 and w.min_wage_unit == "hour"
    assert "electrician" in w.trades


async def test_profile_delete(chat: Chat) -> None:
    await _register(chat)
    await chat.say("我的资料")
    r = await chat.say("6")
    assert "确定删除" in r
    r = await chat.say("1")
    assert "已删除" in r
    async with chat.services.db.reader() as s:
        assert (await s.execute(select(WorkerProfile))).scalar_one_or_none() is None


async def test_group_messages_do_not_run_private_flows(make_chat) -> None:  # type: ignore[no-untyped-def]
    group = make_chat("u9", chat_id="room-1", is_group=True)
    assert await group.say("登记") == ""  # chatter without @ is ignored
    group.mentions_bot = True
    r = await group.say("登记")
    assert "请私聊我" in r


async def test_optional_extras_and_digest_time(chat: Chat) -> None:
    await _register(chat)
    await chat.say("我的资料")
    r = await chat.say("7")
    assert "年龄、性别" in r
    r = await chat.say("男 52岁 电工证")
    assert "改好了" in r and "男 52岁 电工证" in r
    await chat.say("我的资料")
    await chat.say("8")
    r = await chat.say("早上7点半")
    assert "每天推送：07:30" in r
    async with chat.services.db.reader() as s:
        w = (await s.execute(select(WorkerProfile))).scalar_one()
    assert (w.birth_year, w.gender, w.certificates, w.digest_time) == (1974, "male", ["电工证"], "07:30")
    await chat.say("我的资料")
    await chat.say("7")
    r = await chat.say("清空")
    assert "年龄性别证书：未填" in r
