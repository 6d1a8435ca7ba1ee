"""Table-driven tests of the post parser and its stand-alone helpers (issue 4)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from matching.parse import parse_duration, parse_headcount, parse_post, parse_start, parse_wage
from matching.timeparse import CHINA_TZ

SAT_2100 = datetime(2025, 5, 10, 21, 0, tzinfo=CHINA_TZ)
MON_0830 = datetime(2025, 5, 12, 8, 30, tzinfo=CHINA_TZ)


def _w(text: str) -> list[tuple[object, str, str | None]]:
    return [(w.amount_json(), w.unit, w.trade_id) for w in parse_wage(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("日结200", [(200, "day", None)]),
        ("一天380", [(380, "day", None)]),
        ("两百五一天", [(250, "day", None)]),
        ("点工350/天", [(350, "day", None)]),
        ("一斤12块", [(12, "piece", None)]),
        ("一竿1块2", [(1.2, "piece", None)]),
        ("3千5/月", [(3500, "month", None)]),
        ("150-200", [([150, 200], "day", None)]),
        ("工资4000-6000", [([4000, 6000], "month", None)]),
        ("大工400小工260", [(400, "day", None), (260, "day", "helper")]),
        ("泥水大工400小工260", [(400, "day", "mason"), (260, "day", "helper")]),
        ("半天100", [(100, "half_day", None)]),
        ("包干3000", [(3000, "total", None)]),
        ("18元/小时", [(18, "hour", None)]),
        ("时薪20", [(20, "hour", None)]),
        ("一周1500", [(1500, "week", None)]),
        ("一斤5毛", [(0.5, "piece", None)]),
        ("每人300", [(300, "total", None)]),
        ("350", [(350, "day", None)]),
        ("两百", [(200, "day", None)]),
        ("5000", [(5000, "month", None)]),
        # not wages
        ("补贴10元/天", []),
        ("押金200元", []),
        ("年龄18-50岁", []),
        ("要3个人", []),
        ("明天7点", []),
        ("", []),
    ],
)
def test_parse_wage(text: str, expected: list[tuple[object, str, str | None]]) -> None:
    assert _w(text) == expected


def test_wage_fen_is_integer() -> None:
    (w,) = parse_wage("一竿1块2")
    assert w.amount == Decimal("1.2")
    assert w.fen == 120 and isinstance(w.fen, int)
    (r,) = parse_wage("日结150-200")
    assert r.fen is None and (r.min_fen, r.max_fen) == (15000, 20000)


@pytest.mark.parametrize(
    ("text", "n"),
    [
        ("2名", 2),
        ("3个", 3),
        ("两人", 2),
        ("招小工2名", 2),
        ("泥水师傅3个", 3),
        ("要个会修空调的", 1),
        ("找俩小工", 2),
        ("大工2名 小工3名", 5),
        ("泥水工木工各2人", 4),
        ("3-5人", 5),
        ("若干", None),
        ("几个人", None),
        ("三个月", None),
        ("50岁以下", None),
        ("", None),
    ],
)
def test_parse_headcount(text: str, n: int | None) -> None:
    assert parse_headcount(text) == n


@pytest.mark.parametrize(
    ("text", "now", "at"),
    [
        ("明早6点半", SAT_2100, "2025-05-11T06:30:00+08:00"),
        ("早上7点", SAT_2100, "2025-05-11T07:00:00+08:00"),
        ("明天7点", MON_0830, "2025-05-13T07:00:00+08:00"),
        ("今天下午3点", MON_0830, "2025-05-12T15:00:00+08:00"),
        ("后天", MON_0830, "2025-05-14T00:00:00+08:00"),
        ("下周一", SAT_2100, "2025-05-12T00:00:00+08:00"),
        ("下周一", MON_0830, "2025-05-19T00:00:00+08:00"),
        ("周三", MON_0830, "2025-05-14T00:00:00+08:00"),
        ("这周六", MON_0830, "2025-05-17T00:00:00+08:00"),
        ("15号", MON_0830, "2025-05-15T00:00:00+08:00"),
        ("5月20号", MON_0830, "2025-05-20T00:00:00+08:00"),
        ("六点半", MON_0830, "2025-05-13T06:30:00+08:00"),
        ("下午1点集合", datetime(2025, 6, 3, 14, 0, tzinfo=CHINA_TZ), "2025-06-04T13:00:00+08:00"),
        ("马上要人", MON_0830, "2025-05-12T08:30:00+08:00"),
    ],
)
def test_parse_start(text: str, now: datetime, at: str) -> None:
    s = parse_start(text, now)
    assert s is not None and s.at is not None
    assert s.at.isoformat() == at


@pytest.mark.parametrize("text", ["每天早上8点到11点", "8点上班", "工作时间8:00-17:00", "吃饭了吗", "每周3次", ""])
def test_parse_start_none(text: str) -> None:
    assert parse_start(text, MON_0830) is None


def test_start_uses_china_time_for_utc_now() -> None:
    now_utc = datetime(2025, 5, 10, 13, 0, tzinfo=UTC)  # 21:00 in Sha County
    s = parse_start("明早6点半", now_utc)
    assert s is not None and s.at == datetime(2025, 5, 11, 6, 30, tzinfo=CHINA_TZ)
    assert s.at.utcoffset() == timedelta(hours=8)


@pytest.mark.parametrize(
    ("text", "days", "until_done"),
    [("干3天", 3.0, False), ("做完为止", None, True), ("干一个星期左右", 7.0, False), ("一天380", None, None)],
)
def test_parse_duration(text: str, days: float | None, until_done: bool | None) -> None:
    d = parse_duration(text)
    if until_done is None:
        assert d is None
    else:
        assert d is not None and d.days == days and d.until_done is until_done


def test_issue_example_job() -> None:
    p = parse_post("急招泥水师傅3个 贴砖 夏茂镇自建房 一天380 做完结 有意的打159xxxx2217", SAT_2100)
    d = p.to_json_dict()
    assert d["kind"] == "job"
    assert [t["trade_id"] for t in d["trades"]] == ["mason", "tiler"]
    assert d["headcount"] == 3
    assert d["wages"] == [{"amount": 380, "unit": "day", "trade_id": None}]
    assert d["location"] == {"town": "夏茂镇", "text": "夏茂镇"}
    assert d["risk"]["level"] == "ok"


def test_issue_example_seeker() -> None:
    d = parse_post("本人45岁 会开叉车 找夏茂附近日结的活", SAT_2100).to_json_dict()
    assert d["kind"] == "seeker"
    assert [t["trade_id"] for t in d["trades"]] == ["forklift"]
    assert d["location"]["town"] == "夏茂镇"
    assert d["requirements"]["age"] == 45


def test_full_json_shape() -> None:
    d = parse_post("明早6点半青州纸厂卸货，要搬运工4个，两百五一天，包午饭，联系王老板13800138000", SAT_2100).to_json_dict()
    assert set(d) == {
        "kind", "trades", "headcount", "wages", "start", "location", "phones", "contact_name",
        "perks", "requirements", "risk",
    }
    assert d["start"] == {"at": "2025-05-11T06:30:00+08:00", "text": "明早6点半"}
    assert d["phones"] == ["13800138000"]
    assert d["contact_name"] == "王老板"
    assert d["perks"] == ["包吃"]
    json.dumps(d, ensure_ascii=False)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("吃饭了吗", "other"),
        ("收到", "other"),
        ("人招够了 不用来了", "other"),
        ("防骗提醒：凡是要求交押金的招工都是骗子", "other"),
        ("招小工2名 日结200", "job"),
        ("哪个会砌墙的 明天来帮我砌个猪栏 给你两百五", "job"),
        ("有活叫我 泥水大工 一天400", "seeker"),
        ("夫妻俩找活 包吃住就行", "seeker"),
        ("找个摘茶的活 一天150就行", "seeker"),
    ],
)
def test_kind(text: str, kind: str) -> None:
    assert parse_post(text, MON_0830).kind == kind


@pytest.mark.parametrize(
    ("text", "perks"),
    [
        ("包吃住", ["包吃", "包住"]),
        ("中午管饭 车接车送", ["包吃", "接送"]),
        ("不包吃 自己来", []),
        ("吃住自理", []),
        ("购买意外险 五险", ["保险", "社保"]),
    ],
)
def test_perks(text: str, perks: list[str]) -> None:
    assert list(parse_post("招小工 " + text, MON_0830).perks) == perks


@pytest.mark.parametrize(
    ("text", "key", "value"),
    [
        ("招保洁 18-50岁", "age_min", 18),
        ("招保洁 50岁以下", "age_max", 50),
        ("招保安 限男性", "gender", "male"),
        ("招服务员 男女不限", "gender", None),
        ("招焊工 要有焊工证", "certificates", ["焊工证"]),
        ("招司机 B2驾照", "certificates", ["B2驾照"]),
        ("招普工 无需经验", "experience", False),
        ("招电工 3年以上经验", "experience", True),
    ],
)
def test_requirements(text: str, key: str, value: object) -> None:
    assert parse_post(text, MON_0830).to_json_dict()["requirements"][key] == value


def test_never_shandong_or_xining() -> None:
    assert parse_post("山东青州招工 月薪5000", MON_0830).to_json_dict()["location"]["town"] is None
    assert parse_post("西宁城西招保洁", MON_0830).to_json_dict()["location"]["town"] is None


@pytest.mark.parametrize("bad", [None, 12, "", "   ", "\x00\x01", "\ud800"])
def test_odd_input(bad: object) -> None:
    p = parse_post(bad, MON_0830)  # type: ignore[arg-type]
    assert p.kind == "other"
    json.dumps(p.to_json_dict())
