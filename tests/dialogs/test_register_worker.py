"""Worker registration, whole conversations through the real engine (SQLite and PostgreSQL)."""

from __future__ import annotations

from sqlalchemy import func, select

from storage.models import DialogStateRow, Identity, WorkerProfile
from tests.conftest import Chat


async def _workers(chat: Chat) -> list[WorkerProfile]:
    async with chat.services.db.reader() as s:
        return list((await s.execute(select(WorkerProfile))).scalars())


async def test_happy_path_six_answers(chat: Chat) -> None:
    r = await chat.say("登记")
    assert "回 1 同意并开始" in r
    r = await chat.say("1")
    assert "称呼和手机号" in r
    r = await chat.say("张师傅 139 0598 1234")
    assert "会做什么活" in r
    r = await chat.say("泥水工，贴砖")
    assert "在哪里干活" in r
    r = await chat.say("夏茂、高砂")
    assert "什么时候能干活" in r
    r = await chat.say("1")
    assert "最少多少钱" in r
    r = await chat.say("两百")
    assert "登记好了" in r
    assert "张师傅" in r and "13905981234" in r
    assert "泥水工" in r and "贴砖工" in r
    assert "夏茂镇" in r and "高砂镇" in r
    assert "200元/天" in r

    answers = [t for who, t in chat.transcript if who == "user"]
    assert len(answers) - 1 <= 6  # six answers after the command that started it

    [w] = await _workers(chat)
    assert (w.name, w.phone, w.availability, w.min_wage_fen) == ("张师傅", "13905981234", "any", 20000)
    assert w.trades == ["mason", "tiler"]
    assert w.towns == ["夏茂镇", "高砂镇"]
    assert w.consent_at.tzinfo is not None
    async with chat.services.db.reader() as s:
        assert await s.scalar(select(func.count()).select_from(DialogStateRow)) == 0
        ident = (await s.execute(select(Identity))).scalar_one()
        assert (ident.channel, ident.external_id) == ("web", chat.user_id)


async def test_name_and_phone_asked_separately_when_given_alone(chat: Chat) -> None:
    await chat.say("注册")
    await chat.say("同意")
    r = await chat.say("李姐")
    assert "手机号是多少" in r and "李姐" in r
    r = await chat.say("12345")
    assert "手机号好像不对" in r
    r = await chat.say("一三八零五九八二三四五")  # spoken digits
    assert "会做什么活" in r
    await chat.say("保洁")
    await chat.say("全县")
    await chat.say("4")
    r = await chat.say("0")
    assert "登记好了" in r and "不限" in r and "全县" in r
    [w] = await _workers(chat)
    assert w.phone == "13805982345" and w.towns == [] and w.availability == "half_day"


async def test_declining_consent_stores_nothing(chat: Chat) -> None:
    await chat.say("登记")
    r = await chat.say("2")
    assert "没有保存" in r
    assert await _workers(chat) == []
    async with chat.services.db.reader() as s:
        assert await s.scalar(select(func.count()).select_from(Identity)) == 0


async def test_cancel_mid_flow(chat: Chat) -> None:
    await chat.say("登记")
    await chat.say("1")
    await chat.say("王五 13912345678")
    r = await chat.say("取消")
    assert "已取消「零工登记」" in r
    assert await _workers(chat) == []
    r = await chat.say("泥水工")  # no longer in the flow: not read as an answer
    assert "会做什么活" not in r


async def test_back_goes_one_step(chat: Chat) -> None:
    await chat.say("登记")
    await chat.say("1")
    await chat.say("王五 13912345678")
    r = await chat.say("返回")
    assert "称呼和手机号" in r
    r = await chat.say("王六 13912345679")
    assert "会做什么活" in r


async def test_help_keeps_the_question(chat: Chat) -> None:
    await chat.say("登记")
    await chat.say("1")
    r = await chat.say("帮助")
    assert "怎么用" in r and "接着刚才的" in r and "称呼和手机号" in r
    r = await chat.say("赵四 13912345678")
    assert "会做什么活" in r


async def test_timeout_is_polite_and_forgets(chat: Chat, clock) -> None:  # type: ignore[no-untyped-def]
    await chat.say("登记")
    await chat.say("1")
    clock.advance(minutes=31)
    r = await chat.say("赵四 13912345678")
    assert "太久没回复" in r
    assert "会做什么活" not in r


async def test_sweeper_times_out_idle_conversations(chat: Chat, clock) -> None:  # type: ignore[no-untyped-def]
    await chat.say("登记")
    clock.advance(minutes=29)
    assert await chat.services.engine.expire_conversations() == 0
    clock.advance(minutes=2)
    assert await chat.services.engine.expire_conversations() == 1
    assert await chat.services.engine.expire_conversations() == 0
    async with chat.services.db.reader() as s:
        from storage.repositories import OutboxRepository

        rows = await OutboxRepository(s).for_chat("web", chat.user_id)
    assert "太久没回复" in rows[-1].text


async def test_garbage_is_reasked_and_nothing_stored(chat: Chat) -> None:
    await chat.say("登记")
    await chat.say("1")
    for junk in ["😀😀😀", "\x00\x01\x02", "<script>alert(1)</script>", "'; DROP TABLE users; --", "\u200b\u200b"]:
        r = await chat.say(junk)
        assert "称呼和手机号" in r, junk  # the same question again
    r = await chat.say("字" * 10_000)
    assert "太长" in r
    await chat.say("刘一 13912345678")
    r = await chat.say("🍚🍚")
    assert "会做什么活" in r and "没找到" in r
    r = await chat.say("asdfghjkl")
    assert "会做什么活" in r
    assert await _workers(chat) == []


async def test_registering_twice_goes_to_profile(chat: Chat) -> None:
    for text in ["登记", "1", "张三 13912345678", "小工", "凤岗", "1", "150"]:
        await chat.say(text)
    r = await chat.say("登记")
    assert "已经登记过" in r and "张三" in r
    assert len(await _workers(chat)) == 1
