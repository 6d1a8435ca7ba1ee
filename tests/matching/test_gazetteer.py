from __future__ import annotations

import pytest

from matching.gazetteer import find_places, find_town, find_towns, get_town, neighbours, towns

TWELVE = ["凤岗街道", "虬江街道", "青州镇", "夏茂镇", "高砂镇", "高桥镇", "富口镇", "大洛镇",
          "南霞乡", "南阳乡", "郑湖乡", "湖源乡"]


def test_twelve_towns() -> None:
    ts = towns()
    assert sorted(t.name for t in ts) == sorted(TWELVE)
    kinds = {t.name: t.kind for t in ts}
    assert kinds["凤岗街道"] == "街道" and kinds["夏茂镇"] == "镇" and kinds["湖源乡"] == "乡"


@pytest.mark.parametrize(
    ("text", "town"),
    [
        ("急招泥水师傅3个 贴砖 夏茂镇自建房", "夏茂镇"),
        ("找夏茂附近日结的活", "夏茂镇"),
        ("下茂镇有活吗", "夏茂镇"),
        ("在俞邦村做小吃", "夏茂镇"),
        ("青州纸厂招搬运工", "青州镇"),
        ("青山纸业门口集合", "青州镇"),
        ("城区 城西那边", "凤岗街道"),
        ("县城装修", "凤岗街道"),
        ("城南社区", "虬江街道"),
        ("金古园 厂里", "虬江街道"),
        ("南阳乡华村", "南阳乡"),
        ("华村摘果", "南阳乡"),
        ("七峰叠翠景区", "高桥镇"),
        ("官昌村", "大洛镇"),
        ("湖源", "湖源乡"),
        ("郑湖乡徐墩村", "郑湖乡"),
        ("夏茂市场旁边", "夏茂镇"),
    ],
)
def test_find_town(text: str, town: str) -> None:
    t = find_town(text)
    assert t is not None and t.name == town


@pytest.mark.parametrize(
    "text",
    ["山东青州招工", "青州市", "河南南阳", "南阳市", "西宁城西", "吃饭了吗", "三明列东", "", "新建厂房"],
)
def test_not_a_sha_town(text: str) -> None:
    assert find_town(text) is None


def test_outside_place_is_reported() -> None:
    ms = find_places("去福州干活")
    assert ms and ms[0].town is None and ms[0].surface == "福州"


def test_find_towns() -> None:
    assert [t.name for t in find_towns("夏茂、高砂都行")] == ["夏茂镇", "高砂镇"]
    assert [t.name for t in find_towns("凤岗 虬江 凤岗")] == ["凤岗街道", "虬江街道"]


def test_neighbours() -> None:
    n = neighbours("虬江街道")
    assert set(n) == {"凤岗街道", "高砂镇", "南阳乡", "南霞乡", "大洛镇"}
    assert "虬江街道" in neighbours("大洛")  # symmetric, short name accepted
    for t in TWELVE:
        assert neighbours(t), t
        assert t not in neighbours(t)
    assert neighbours("不存在") == []


def test_get_town() -> None:
    assert get_town("夏茂").name == "夏茂镇"  # type: ignore[union-attr]
    assert get_town("xx") is None
