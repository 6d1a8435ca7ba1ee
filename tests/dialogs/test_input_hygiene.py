"""Text from any channel is cleaned once, at the boundary (``InboundMessage``): NUL, other C0
controls and lone surrogates never reach the database. Through the real engine, SQLite and
PostgreSQL (PostgreSQL refuses NUL in text; no driver can encode a lone surrogate)."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from dialogs import texts
from dialogs.events import InboundMessage, clean_inbound_text
from storage.models import EmployerProfile, Order, User, WorkerProfile
from tests.conftest import Chat

BAD = "\x00\x01\x07\x08\x0b\x0c\x1b\x1f\x7f\ud800\udfff"
SORRY_HEAD = texts.SORRY.split("，")[0]


def _message(text: str, sender_name: str = "") -> InboundMessage:
    return InboundMessage(
        channel="web", chat_id="c", user_id="u", is_group=False, mentions_bot=False, text=text,
        message_id="m", received_at=datetime(2026, 1, 1, tzinfo=UTC), sender_name=sender_name,
    )


def test_inbound_message_is_cleaned_on_construction() -> None:
    msg = _message("登\x00记\ud800\x1b[31m\t一\r\n二\r三\x7f", sender_name="张\x00三\udc00\u200b")
    assert msg.text == "登记[31m\t一\n二\n三"
    assert msg.sender_name == "张三\u200b"  # invisible-but-valid characters are the engine's business
    assert _message("招小工2名 😀 明天7点").text == "招小工2名 😀 明天7点"  # clean text is untouched


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(exclude_categories=()), max_size=60))
def test_cleaned_text_always_encodes_and_has_no_controls(raw: str) -> None:
    out = clean_inbound_text(raw)
    out.encode("utf-8")  # no lone surrogates left
    assert not any((ord(c) < 0x20 and c not in "\n\t") or c == "\x7f" for c in out)
    assert clean_inbound_text(out) == out


def _poisoned(text: str) -> str:
    """Control characters and lone surrogates sprinkled between the characters of ``text``."""
    return "".join(c + BAD[i % len(BAD)] for i, c in enumerate(text))


async def test_worker_registration_with_control_characters_and_surrogates(chat: Chat) -> None:
    chat.name = "老\x00张\ud800"
    answers = ["登记", "1", "张师傅 139 0598 1234", "泥水工", "夏茂", "1", "两百"]
    for answer in answers:
        r = await chat.say(_poisoned(answer))
        assert SORRY_HEAD not in r, r
    assert "登记好了" in r
    async with chat.services.db.reader() as s:
        user = (await s.execute(select(User))).scalar_one()
        worker = (await s.execute(select(WorkerProfile))).scalar_one()
    assert user.display_name == "张师傅"  # the registered name replaces the channel name
    assert (worker.name, worker.phone) == ("张师傅", "13905981234")


async def test_employer_and_post_with_nul_in_free_text(make_chat) -> None:  # type: ignore[no-untyped-def]
    boss: Chat = make_chat("boss", name="黄\x00老板")
    for answer in ["雇主登记", "1", "黄老板 13959806789", "夏茂\x00建筑队\ud83d", "夏茂"]:
        r = await boss.say(answer)
        assert SORRY_HEAD not in r, r
    assert "登记好了" in r
    await boss.say("招工")
    r = await boss.say("急招泥水师傅3个\x00 贴砖\ud800 夏茂镇自建房 明天早上7点 一天380\x1b 包午饭")
    assert "怎么定人" in r, r
    for answer in ["1", "2", "1"]:
        r = await boss.say(answer)
        assert SORRY_HEAD not in r, r
    assert "发布好了" in r
    async with boss.services.db.reader() as s:
        employer = (await s.execute(select(EmployerProfile))).scalar_one()
        order = (await s.execute(select(Order))).scalar_one()
        user = (await s.execute(select(User))).scalar_one()
    assert employer.company == "夏茂建筑队"
    assert user.display_name == "黄老板"
    for value in (order.raw_text or "", employer.company, user.display_name):
        value.encode("utf-8")
        assert "\x00" not in value


async def test_group_post_with_nul_in_the_sender_name_and_text(make_chat) -> None:  # type: ignore[no-untyped-def]
    poster: Chat = make_chat("p1", chat_id="room1", is_group=True, name="王\x00老板\udfff")
    r = await poster.say("招小工2名\x00 明天早上7点 夏茂镇\ud800 日结200 电话13959806789")
    assert SORRY_HEAD not in r, r
    async with poster.services.db.reader() as s:
        users = list((await s.execute(select(User))).scalars())
        orders = list((await s.execute(select(Order))).scalars())
    assert [u.display_name for u in users] == ["王老板"]
    assert len(orders) == 1 and "\x00" not in (orders[0].raw_text or "")
