from __future__ import annotations

import re

import pytest

from matching.phones import digit_runs, extract_phones, find_numbers, is_mobile, mask_numbers


@pytest.mark.parametrize(
    ("text", "phones"),
    [
        ("电话13800138000", ["13800138000"]),
        ("有意者联系：138 0013 8000 王老板", ["13800138000"]),
        ("138-0013-8000", ["13800138000"]),
        ("１３８－００１３－８０００", ["13800138000"]),
        ("幺三八零零幺三八零零零", ["13800138000"]),
        ("电话一三八 零零一三 八零零零", ["13800138000"]),
        ("1️⃣3️⃣8️⃣0️⃣0️⃣1️⃣3️⃣8️⃣0️⃣0️⃣0️⃣", ["13800138000"]),
        ("1\u200b380\u200c0138\u200d000", ["13800138000"]),
        ("①③⑧⓪⓪①③⑧⓪⓪⓪", ["13800138000"]),
        ("+86 138 0013 8000", ["13800138000"]),
        ("日结150-200 13800138000", ["13800138000"]),
        ("座机0598-5812345", ["0598-5812345"]),
        ("(0598)5812345", ["0598-5812345"]),
        ("13800138000/13900139000 都可以", ["13800138000", "13900139000"]),
        ("13800138000 再说一遍13800138000", ["13800138000"]),
        ("有意的打159xxxx2217", []),
        ("2024-05-01 开工 日结200", []),
        ("工资3000-5000元", []),
        ("吃饭了吗", []),
        ("身份证350427199001011234", []),
    ],
)
def test_extract_phones(text: str, phones: list[str]) -> None:
    assert extract_phones(text) == phones


@pytest.mark.parametrize(
    ("s", "ok"),
    [
        ("13800138000", True),
        ("138 0013 8000", True),
        ("+86-138-0013-8000", True),
        ("１３８００１３８０００", True),
        ("12800138000", False),
        ("1380013800", False),
        ("电话13800138000", False),
        ("", False),
    ],
)
def test_is_mobile(s: str, ok: bool) -> None:
    assert is_mobile(s) is ok


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("电话13800138000", "电话138****8000"),
        ("联系138 0013 8000王", "联系138****8000王"),
        ("幺三八零零幺三八零零零", "138****8000"),
        ("座机0598-5812345", "座机0598-***2345"),
        ("身份证350427199001011234", "身份证3504**********1234"),
        ("身份证35042719900101123X", "身份证3504**********123X"),
        ("日结200元 3月5日开工", "日结200元 3月5日开工"),
    ],
)
def test_mask_numbers(text: str, masked: str) -> None:
    assert mask_numbers(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "138001380001",  # 12 digits: not a valid phone but still hidden
        "1 3 8 0 0 1 3 8 0 0 0 1 2 3",
        "㉑㉒㉓㉔㉕㉖",
        "8613800138000",
        "v：1³8⁰0¹3⁸8⁰0⁰",
    ],
)
def test_mask_never_leaves_eleven_digits(text: str) -> None:
    out = mask_numbers(text)
    assert all(len(d) < 11 for d in digit_runs(out))
    assert not re.search(r"1[3-9]\d{9}", re.sub(r"[\s\-.]", "", out))


def test_find_numbers_kinds() -> None:
    kinds = [f.kind for f in find_numbers("手机13800138000 座机0598-5812345 身份证350427199001011234")]
    assert kinds == ["mobile", "landline", "id"]
