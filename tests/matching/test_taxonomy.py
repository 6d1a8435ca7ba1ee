from __future__ import annotations

import pytest

from matching.taxonomy import Trade, load_taxonomy


def ids(text: str) -> list[str]:
    return [t.id for t in load_taxonomy().find(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("急招泥水师傅3个 贴砖 夏茂镇自建房", ["mason", "tiler"]),
        ("本人45岁 会开叉车 找夏茂附近日结的活", ["forklift"]),
        ("招小工2名 明天7点 日结200", ["helper"]),
        ("大工400小工260", ["helper"]),
        ("泥水大工400 小工260", ["mason", "helper"]),
        ("钢筋 大工", ["rebar"]),
        ("泥水小工", ["mason"]),
        ("电工师傅", ["electrician"]),
        ("找电焊工和小工", ["welder", "helper"]),
        ("木工模板", ["formwork"]),
        ("装修木工", ["carpenter_deco"]),
        # typos and homophones
        ("泥水功", ["mason"]),
        ("尼水工", ["mason"]),
        ("保结阿姨", ["cleaner"]),
        ("挖鸡师傅", ["excavator"]),
        ("插车司机", ["forklift"]),
        ("服物员2名", ["waiter"]),
        ("贴瓷专", ["tiler"]),
        # pinyin
        ("xiaogong", ["helper"]),
        ("bao jie", ["cleaner"]),
        # nothing plausible
        ("吃饭了吗", []),
        ("水电费自理 包吃住", []),
        ("零工市场通知", []),
        ("会开车", []),
        ("", []),
    ],
)
def test_find(text: str, expected: list[str]) -> None:
    assert ids(text) == expected


def test_short_answer_fuzzy() -> None:
    assert ids("保吉") == ["cleaner"]


def test_get_and_all() -> None:
    tx = load_taxonomy()
    assert isinstance(tx.get("mason"), Trade)
    assert tx.get("mason").name == "泥水工"  # type: ignore[union-attr]
    assert tx.get("nope") is None
    assert len(tx.all()) >= 60
    assert len({t.id for t in tx.all()}) == len(tx.all())


# Ids present in shared/data/trades.yaml 0.1: never renamed or dropped.
ORIGINAL_IDS = """helper mason tiler concrete rebar formwork scaffolder rural_builder demolition waterproof
welder steel_structure excavator piling electrician plumber carpenter_deco painter drywall
window_install ac_install appliance_repair handyman cleaner hourly_help nanny maternity_nurse
childcare carer cook kitchen_helper waiter dishwasher snack_shop tea_picker tea_processing
fruit_picker farm_hand tobacco bamboo_forestry mushroom livestock landscaping loader sorter courier
delivery_rider warehouse factory_worker sewing machinist qc forklift truck_driver chauffeur
shop_assistant promoter event_staff security car_wash_repair locksmith online_gig""".split()


def test_ids_stable() -> None:
    tx = load_taxonomy()
    for tid in ORIGINAL_IDS:
        assert tx.get(tid) is not None, tid


def test_aliases_unambiguous() -> None:
    """An explicit alias must not be listed under two trades."""
    seen: dict[str, str] = {}
    for t in load_taxonomy().all():
        for a in (*t.aliases, *t.typos):
            assert a not in seen or seen[a] == t.id, (a, seen.get(a), t.id)
            seen[a] = t.id
