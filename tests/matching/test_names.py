"""Names that imitate the bot or the staff are refused (matching.names); ordinary ones are not."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching.names import LATIN_TERMS, STAFF_TERMS, impersonation

BOT = "零工小助手"
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

ORDINARY = ["张师傅", "刘德福", "李姐", "黄老板", "王建国", "陈阿姨", "老周", "林小平", "Lily", "欧阳春花",
            "夏茂建筑队", "凤岗茶厂", "老人社区食堂", "小李家政", "沙县小吃店", "柯福", "平安装修队"]

INVISIBLE = (
    [chr(c) for c in range(0x200B, 0x2010)]  # zero-width space, joiners, LRM/RLM
    + [chr(c) for c in range(0x2060, 0x2065)]  # word joiner, invisible operators
    + [chr(c) for c in range(0x202A, 0x202F)]  # bidi embeddings and overrides
    + [chr(c) for c in range(0x2066, 0x206A)]  # bidi isolates
    + [chr(c) for c in range(0xFE00, 0xFE10)]  # variation selectors
    + [chr(c) for c in range(0xE0100, 0xE0110)]  # variation selectors supplement
    + [chr(c) for c in range(0xE0020, 0xE0080)]  # tag characters
    + ["\ufeff", "\u00ad", "\u034f", "\u061c", "\u180e", "\u115f", "\u1160", "\u3164", "\uffa0", "\u2800",
       "\u20e3", "\u0301"]
)
SPACES = [" ", "\t", "\u00a0", "\u3000", "\u2002", "\u2009", "\u202f", "\u205f", "\u1680"]
PUNCTUATION = ["-", "·", "、", "。", "*", "_", "~", "【", "】", "(", ")", "/", "♥", "★", "😀", "."]


@pytest.mark.parametrize("name", ORDINARY)
def test_ordinary_names_are_accepted(name: str) -> None:
    assert impersonation(name, BOT) is None


@pytest.mark.parametrize(
    ("name", "word"),
    [
        ("零工小助手", BOT), ("零工小助手张", BOT), ("客服", "客服"), ("客服小王", "客服"), ("官方招聘", "官方"),
        ("管理员", "管理员"), ("管理員", "管理员"), ("工作人员李", "工作人员"), ("运营部", "运营"),
        ("平台客服", "平台"), ("沙县区零工市场", "零工市场"), ("人社局王科长", "人社"), ("镇政府", "政府"),
        ("系统通知", "系统"), ("ｋｅｆｕ", "kefu"), ("KeFu小张", "kefu"), ("Admin", "admin"), ("adm1n", "admin"),
        ("\u0430dmin", "admin"),  # Cyrillic a
        ("OFFICIAL", "official"), ("0fficial", "official"), ("guan fang", "guanfang"),
        ("Ling Gong Xiao Zhu Shou", BOT), ("零工小助手\ufe0f", BOT), ("客\u00ad服", "客服"),
    ],
)
def test_imitations_are_refused_with_the_word_imitated(name: str, word: str) -> None:
    assert impersonation(name, BOT) == word


def test_another_bot_name_is_honoured() -> None:
    assert impersonation("夏茂帮帮", "夏茂帮帮") == "夏茂帮帮"
    assert impersonation("夏 茂 帮 帮", "夏茂帮帮") == "夏茂帮帮"
    assert impersonation("黄老板", "夏茂帮帮") is None
    assert impersonation("张师傅", "") is None


def test_every_listed_word_is_refused_alone() -> None:
    for term in (*STAFF_TERMS, *LATIN_TERMS):
        assert impersonation(term, BOT) == term


_filler = st.lists(st.sampled_from(INVISIBLE + SPACES + PUNCTUATION), max_size=3).map("".join)


@st.composite
def _interleaved(draw: st.DrawFn, word: str) -> str:
    parts = [draw(_filler)]
    for char in word:
        parts += [char, draw(_filler)]
    return "".join(parts)


@SETTINGS
@given(st.sampled_from([BOT, "客服", "官方", "管理员"]).flatmap(lambda w: st.tuples(st.just(w), _interleaved(w))),
       st.sampled_from(["", "张", "小王", "Lee"]), st.sampled_from(["", "老", "阿"]))
def test_invisible_characters_spaces_or_punctuation_inside_do_not_help(
    pair: tuple[str, str], suffix: str, prefix: str
) -> None:
    word, disguised = pair
    assert impersonation(prefix + disguised + suffix, BOT) == word


@SETTINGS
@given(st.sampled_from(["ＫｅＦｕ", "ＡＤＭＩＮ", "Official"]).flatmap(_interleaved))
def test_full_width_and_spaced_latin_is_refused_too(disguised: str) -> None:
    assert impersonation(disguised, BOT) in {"kefu", "admin", "official"}


@SETTINGS
@given(st.sampled_from(ORDINARY), _filler)
def test_ordinary_names_stay_accepted_with_noise(name: str, noise: str) -> None:
    assert impersonation(noise + name + noise, BOT) is None


@SETTINGS
@given(st.text(max_size=20))
def test_never_raises(text: str) -> None:
    result = impersonation(text, BOT)
    assert result is None or isinstance(result, str)
