"""Commands tolerate typos, homophones and synonyms — and ordinary sentences are not commands."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching.intents import match_choice, match_code_command, match_intent


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("帮助", "help"),
        ("帮主", "help"),  # homophone typo
        ("？", "help"),
        ("help", "help"),
        ("菜单", "menu"),
        ("菜 单", "menu"),
        ("caidan", None),  # latin pinyin of a command is not guessed
        ("取消", "cancel"),
        ("取笑", "cancel"),  # same sound: what voice input makes of 取消
        ("算了", "cancel"),
        ("不弄了。", "cancel"),
        ("返回", "back"),
        ("上一步", "back"),
        ("注册", "register_worker"),
        ("注测", "register_worker"),  # homophone typo
        ("登记", "register_worker"),
        ("我要找活", "find_jobs"),
        ("我要找活！", "find_jobs"),
        ("有活吗", "find_jobs"),
        ("招工", "post_job"),
        ("我要招人", "post_job"),
        ("雇主登记", "register_employer"),
        ("我的活", "my_jobs"),
        ("我的招工", "my_orders"),
        ("我的资料", "profile"),
        ("我的姿料", "profile"),
        ("资料", "profile"),
        ("ＨＥＬＰ", "help"),  # full-width
        ("今天天气不错啊大家都出来干活吧", None),
        ("吃饭了吗", None),
        ("", None),
        ("😀", None),
    ],
)
def test_match_intent(text: str, intent: str | None) -> None:
    match = match_intent(text)
    assert (match.intent if match else None) == intent


@pytest.mark.parametrize(
    ("text", "options", "expected"),
    [
        ("1", {1, 2}, 1),
        ("１", {1, 2}, 1),
        ("2。", {1, 2}, 2),
        ("第2个", {1, 2, 3}, 2),
        ("三", {1, 2, 3}, 3),
        ("两", {1, 2}, 2),
        ("5", {1, 2}, None),
        ("12", set(range(20)), None),
        ("一点", {1}, None),
        ("好", {1}, None),
    ],
)
def test_match_choice(text: str, options: set[int], expected: int | None) -> None:
    assert match_choice(text, options) == expected


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_intent_matching_never_raises(text: str) -> None:
    match_intent(text)
    match_choice(text, {1, 2, 3})


@pytest.mark.parametrize(
    ("text", "intent", "code", "rest"),
    [
        ("接 3827", "take", "3827", ""),
        ("接单3827", "take", "3827", ""),
        ("报名 3827", "take", "3827", ""),
        ("我去 3827", "take", "3827", ""),
        ("接 ３８２７", "take", "3827", ""),  # full-width digits
        ("结 3827", "take", "3827", ""),  # same sound as 接
        ("退 3827", "withdraw", "3827", ""),
        ("不去了 3827", "withdraw", "3827", ""),
        ("取消 3827", "cancel_code", "3827", ""),
        ("取消招工 3827", "cancel_order", "3827", ""),
        ("选 3827 2", "pick", "3827", "2"),
        ("不要 3827 1", "decline", "3827", "1"),
        ("看报名 3827", "applicants", "3827", ""),
        ("改人数 3827 5", "change_headcount", "3827", "5"),
        ("改时间 3827 明天8点", "change_start", "3827", "明天8点"),
    ],
)
def test_code_commands(text: str, intent: str, code: str, rest: str) -> None:
    cmd = match_code_command(text)
    assert cmd is not None and (cmd.intent, cmd.code, cmd.rest) == (intent, code, rest)


@pytest.mark.parametrize("text", ["3827", "今天 3827", "电话 13912345678", "招小工2名 日结200", "接"])
def test_not_code_commands(text: str) -> None:
    assert match_code_command(text) is None
