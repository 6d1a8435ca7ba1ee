from __future__ import annotations

from datetime import datetime

import pytest

from matching.parse import parse_post
from matching.texts import RISK_REASONS
from matching.timeparse import CHINA_TZ

NOW = datetime(2025, 5, 12, 8, 30, tzinfo=CHINA_TZ)


def level(text: str) -> str:
    return parse_post(text, NOW).risk.level


@pytest.mark.parametrize(
    "text",
    [
        "招聘门卫 月薪6000 入职需交押金500元",
        "急招服务员 先交体检费150元",
        "招聘快递分拣 需先缴纳服装费100元",
        "刷单兼职 一单佣金5-20元",
        "招代理 每拉一个人奖励200 发展下线",
        "在家手机兼职 日赚500 加vx abc123",
        "下载APP注册 做任务返现",
        "入职要先交身份证原件 公司保管",
        "高薪招聘台球助教 月入过万",
        "招跑分 需要有银行卡",
        "先交2000元培训费 培训合格后安排工作",
        "急招保洁 日结150 需交50元信息费",
    ],
)
def test_hard_red_flags_hold(text: str) -> None:
    p = parse_post(text, NOW)
    assert p.risk.level == "hold", p.risk
    assert p.risk.reasons and all(r in RISK_REASONS.values() for r in p.risk.reasons)


@pytest.mark.parametrize(
    "text",
    [
        "招聘保洁员 不收任何费用 无押金 月薪2800 城区",
        "本公司招工 正规企业 不收中介费 普工4500 包住",
        "体检费公司报销 招聘食品厂普工 4000/月",
        "招小工2名 明天7点 日结200",
        "城区家政公司招钟点工 35元/小时 时间自由",
        "招钢筋工 大工350 小工220 要的私聊",
        "温馨提示：谨防刷单诈骗，网上兼职刷单都是骗人的",
    ],
)
def test_genuine_not_held(text: str) -> None:
    assert level(text) != "hold"


def test_high_pay_is_caution() -> None:
    p = parse_post("招小工 一天500 包吃住 城区", NOW)
    assert p.risk.level == "caution"
    assert RISK_REASONS["high_pay"] in p.risk.reasons


def test_low_requirement_high_pay_urgency_combination_holds() -> None:
    assert level("急聘 夜班保安 日结800 无需经验 今天就上岗") == "hold"
