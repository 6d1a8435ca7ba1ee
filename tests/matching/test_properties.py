"""Hypothesis: the parser and the masker never raise, stay fast, and never leak a mobile number."""

from __future__ import annotations

import json
import re
import time
from datetime import datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching.gazetteer import find_towns
from matching.normalize import normalize
from matching.parse import parse_post
from matching.phones import digit_runs, extract_phones, mask_numbers
from matching.taxonomy import load_taxonomy
from matching.timeparse import CHINA_TZ

NOW = datetime(2025, 5, 12, 8, 30, tzinfo=CHINA_TZ)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_DIGITS = "0123456789０１２３４５６７８９一二三四五六七八九零幺①②③④⑤⑥⑦⑧⑨"
_JUNK = " -\u200b\u200d\ufe0f\u20e3.·、，()（）\n\t"
_POST_WORDS = st.sampled_from(
    ["招", "小工", "泥水", "日结", "一天", "元", "明天", "早上7点", "夏茂", "押金", "电话", "各", "名", "个", "岁",
     "以下", "包吃住", "刷单", "加v", "两百五", "1块2", "/天", "-", "~", "号", "周一", "下午", "半"]
)
text_any = st.text(max_size=300)
post_like = st.lists(st.one_of(_POST_WORDS, st.text(alphabet=_DIGITS + _JUNK, max_size=6), st.text(max_size=4)),
                     max_size=40).map("".join)


@st.composite
def obfuscated_mobile(draw: st.DrawFn) -> str:
    digits = "1" + draw(st.sampled_from("3456789")) + "".join(draw(st.lists(st.sampled_from("0123456789"),
                                                                           min_size=9, max_size=9)))
    styles = {
        "ascii": dict(zip("0123456789", "0123456789")),
        "full": dict(zip("0123456789", "０１２３４５６７８９")),
        "cn": dict(zip("0123456789", "零幺二三四五六七八九")),
        "circled": dict(zip("0123456789", "⓪①②③④⑤⑥⑦⑧⑨")),
        "keycap": {d: d + "\ufe0f\u20e3" for d in "0123456789"},
    }
    out = []
    for d in digits:
        style = draw(st.sampled_from(sorted(styles)))
        out.append(styles[style][d])
        out.append(draw(st.sampled_from(["", "", "", " ", "-", "\u200b", "\u200c", " - ", "."])))
    prefix = draw(st.text(max_size=8))
    suffix = draw(st.text(max_size=8))
    return prefix + "".join(out) + suffix


def _readable_mobile(text: str) -> bool:
    if any(re.search(r"1[3-9]\d{9}", run) for run in digit_runs(text)):
        return True
    flat = re.sub(r"[\s\-.\u200b-\u200d\ufeff]", "", normalize(text))
    return re.search(r"1[3-9]\d{9}", flat) is not None


@SETTINGS
@given(st.one_of(text_any, post_like))
def test_parse_never_raises_and_is_json(text: str) -> None:
    d = parse_post(text, NOW).to_json_dict()
    json.dumps(d, ensure_ascii=False)
    assert d["kind"] in ("job", "seeker", "other")
    assert d["risk"]["level"] in ("ok", "caution", "hold")


@SETTINGS
@given(st.one_of(text_any, post_like))
def test_parse_time_is_bounded(text: str) -> None:
    t = time.perf_counter()
    parse_post(text * 20, NOW)
    assert time.perf_counter() - t < 0.5


@SETTINGS
@given(st.one_of(text_any, post_like, obfuscated_mobile()))
def test_mask_never_leaves_a_mobile(text: str) -> None:
    out = mask_numbers(text)
    assert isinstance(out, str)
    assert not _readable_mobile(out)


@SETTINGS
@given(obfuscated_mobile())
def test_obfuscated_mobile_is_found(text: str) -> None:
    assert extract_phones(text) or any(len(r) >= 11 for r in digit_runs(text))


@settings(max_examples=60, deadline=None)
@given(st.one_of(text_any, post_like))
def test_other_matchers_never_raise(text: str) -> None:
    load_taxonomy().find(text)
    find_towns(text)
    extract_phones(text)


def test_one_megabyte_inputs_are_fast() -> None:
    big = ("招小工2名 日结200 电话13800138000 夏茂 \u200b😀" * 40000)[:1_000_000]
    t = time.perf_counter()
    parse_post(big, NOW)
    masked = mask_numbers(big)
    assert time.perf_counter() - t < 10
    assert not _readable_mobile(masked)
    junk = "".join(chr(c) for c in range(0x20, 0x3000)) * 100
    parse_post(junk, NOW)
    assert not _readable_mobile(mask_numbers(junk))
