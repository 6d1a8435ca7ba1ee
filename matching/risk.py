"""Fake-post and black-intermediary screening (seed 第八条; reference §6.3–6.4).

Three levels: ``ok``; ``caution`` (published, workers warned); ``hold`` (never published before
an operator reviews it). Hard red flags (deposits, fees, 刷单, pyramid selling, off-platform lures,
ID/bank requests, adult or gambling work) hold at once. Softer signals (pay far above the trade's
county median, lure vocabulary, insider claims, unpaid trials) give caution, and hold when they
combine into the 低要求·高收入·急/自由 pattern. A flag is ignored when the phrase is negated or
quoted as a warning (不收押金, 谨防刷单, 交押金的都是骗子).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from matching.texts import RISK_REASONS
from matching.wages import Wage

__all__ = ["HARD_FLAGS", "Risk", "assess_risk"]


@dataclass(frozen=True, slots=True)
class Risk:
    """Screening result: level, plain-Chinese reasons, and machine codes (same order)."""

    level: str  # "ok" | "caution" | "hold"
    reasons: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()

    @property
    def held(self) -> bool:
        return self.level == "hold"

    def to_json_dict(self) -> dict[str, object]:
        return {"level": self.level, "reasons": list(self.reasons)}


_HARD: list[tuple[str, str]] = [
    ("deposit", r"押金|保证金|抵押金|风险金|押身份证|压金|鸭金"),
    ("fee", r"培训费|报名费|信息费|介绍费|中介费|服务费|手续费|体检费|服装费|工服费|工作服费|工装费|工牌费|工号费|"
            r"指定医院体检|材料费|会员费|返费|"
            r"资料费|审核费|岗位稳定金|稳岗金|入职费|办卡费|建档费|会员费|上岗费|保密费|诚意金|押金费|"
            r"(?:先|需|要|得)(?:交|缴|付)\s*(?:\d+|[一二两三四五六七八九十百几]+)\s*(?:元|块)|"
            r"收取?.{0,4}(?:\d+|[一二两三四五六七八九十百几]+)\s*(?:元|块).{0,2}费|交钱|缴费"),
    ("training_loan", r"先培训再上岗|先培训后上岗|培训贷|贷款培训|分期培训|培训包就业|包分配工作|培训合格后安排"),
    ("task_scam", r"刷单|刷信誉|刷好评|刷流水|点赞返|点赞员|点赞兼职|点赞赚|做任务返|任务返现|关注返|评论返|"
                  r"抖音点赞|快手点赞|淘宝刷|一单一返|佣金日结|返佣金"),
    ("task_scam_late", r"连单|卡单|解冻费|充值|垫付|垫资|预付款|先垫"),
    ("off_platform", r"加v|\+v|➕v|➕微|➕薇|加薇|加威|加卫|v信|vx|威信|薇信|微x|wx号|加q|qq群|qq号|扣扣|"
                     r"企鹅号|下载app|下载.{0,6}app|下载软件|扫码进群|扫码加|扫码入群|扫描二维码|进群领|加群|"
                     r"加客服|联系客服|找客服|导师|接待员|飞机号|telegram|纸飞机"),
    ("id_or_bank", r"身份证原件|扣押身份证|扣身份证|收身份证|身份证.{0,6}(?:交|放|押|留)(?:在|给)?(?:公司|老板|我们|我这)|"
                   r"银行卡号|银行卡密码|验证码|网银|银行流水|支付密码|u盾|出租银行卡|借.{0,2}银行卡"),
    ("pyramid", r"拉人头|发展下线|下线|每拉一个|拉一个人|拉新奖励|推荐.{0,4}人.{0,4}奖励|提货款|入门费|"
                r"入会费|团队计酬|躺赚|静态收益|动态收益|直推|资金盘|拉人进"),
    ("adult", r"台球助教|陪酒|陪聊|陪玩|夜场|ktv公主|佳丽|商务会所|男模|女模|特殊服务|陪侍|伴游|商务ktv|夜总会|"
              r"男女公关|高薪公关|公关.{0,6}日结"),
    ("gambling", r"网络赌博|博彩|赌场|菠菜|跑分|收u|usdt|洗钱|代收款|收购银行卡|两卡|电话卡出租|卡农|网赌"),
    ("travel_fee", r"(?:先|预|需|要)(?:交|付|缴)(?:路费|车费|住宿费|安置费)|(?:路费|车费|住宿费|安置费)(?:先交|先付|自付先)|指定酒店"),
]
_SOFT: list[tuple[str, str]] = [
    ("insider", r"内推|直签|保录取|包录取|包过|入编|有编制|内部名额|包进厂"),
    ("lure", r"轻松赚|轻轻松松|轻松月入|轻松日赚|足不出户|在家(?:就能|即可|也能|兼职|做|操作|赚)|只需(?:一部)?手机|"
             r"手机(?:操作|就能|即可|上操作|赚钱)|动动手指|日赚|日入|月入过万|月入上万|月赚|一单一结|秒结|"
             r"无门槛|零投入|零成本|稳赚|躺着|高额回报|高额佣金|高回报|带你赚|赚钱|月入五位数"),
    ("flexible", r"时间自由|自由安排|宝妈|学生党|闲暇时间|碎片时间|在家上班|在家办公"),
    ("low_req", r"无需经验|不需要经验|不需经验|不限学历|学历不限|零基础|不限年龄|无要求|没有要求|有手机就行|"
                r"有手机就能|会打字|会上网|小白|新手可做|会用微信|识字就行"),
    ("urgency", r"急招|急聘|名额有限|今天截止|仅限今天|先到先得|限时|抓紧|只招\d+人|手慢无|速度|先到先"),
    ("unpaid_trial", r"试岗期无薪|试岗无薪|试工不给钱|试工没有工资|试用期没有?工资|试岗没有工资|先试做|试做任务|无薪试"),
    ("data_harvest", r"改群名片|群名片改|修改群昵称|改群昵称|发身份证照片|身份证正反面|手持身份证"),
    ("online", r"网络兼职|手机兼职|线上兼职|网上兼职|在家兼职|打字员|网络推广"),
]
_HARD_RES = [(code, re.compile(p)) for code, p in _HARD]
_SOFT_RES = [(code, re.compile(p)) for code, p in _SOFT]
HARD_FLAGS = tuple(code for code, _ in _HARD)

_NEG_SHORT_RE = re.compile(
    r"(不收|不要|不用|不需要?|不交|不缴|无需|无|免|没有|没|拒绝|绝不|从不|零|非|别|勿|一律不|不会收|"
    r"不收取|不收任何|不需交|无任何|不存在)[^,，。;；!！\s]{0,4}$"
)
_NEG_WARN_RE = re.compile(
    r"(谨防|警惕|小心|防止|严禁|禁止|杜绝|举报|凡是?|凡要|凡收|提醒|防范|揭秘|曝光|识别|不信|骗子|诈骗|遇到)"
    r"[^。;；!！]{0,10}$"
)
_NEG_AFTER_RE = re.compile(
    r"^[^,，。;；!！]{0,8}(都是骗子|是骗子|是骗局|是诈骗|的都是骗|就是骗|肯定是骗|不要信|别信|勿信)"
    r"|^\s*(?:由)?(?:公司|老板|我们|厂里|单位|我方)?\s*(?:报销|出|承担|负责|支付|全免|免费|不收|没有|无)(?!货)"
)
_WARNING_RE = re.compile(r"谨防|警惕|防骗|反诈|诈骗|骗子|骗局|曝光|提醒大家|温馨提示|小心上当|不要上当|别上当")

# Generic medians when the trade is unknown (yuan).
_GENERIC = {"day": 200, "hour": 25, "month": 5000}


def _hits(norm: str, rx: re.Pattern[str], check_negation: bool) -> bool:
    for m in rx.finditer(norm):
        if not check_negation:
            return True
        before = norm[max(0, m.start() - 12) : m.start()]
        after = norm[m.end() : m.end() + 10]
        if _NEG_SHORT_RE.search(before) or _NEG_WARN_RE.search(before) or _NEG_AFTER_RE.match(after):
            continue
        return True
    return False


def _day_equivalent(w: Wage) -> float | None:
    hi = float(w.max_yuan)
    return {
        "day": hi,
        "half_day": hi * 2,
        "hour": hi * 8,
        "week": hi / 6,
        "month": hi / 26,
    }.get(w.unit)


def _high_pay(wages: Sequence[Wage], medians: dict[str, dict[str, int | None]], first_trade: str | None) -> bool:
    for w in wages:
        tid = w.trade_id or first_trade
        med = medians.get(tid or "", {}) if tid else {}
        hi = float(w.max_yuan)
        if w.unit == "hour":
            mh = med.get("hour") or (med["day"] / 8 if med.get("day") else None) or _GENERIC["hour"]
            if hi > max(60.0, 2.5 * float(mh)):
                return True
            continue
        if w.unit == "month":
            mm = med.get("month") or ((med.get("day") or 0) * 26) or _GENERIC["month"]
            if hi > 2.0 * float(mm) and hi > 12000:
                return True
            continue
        de = _day_equivalent(w)
        if de is None:
            continue
        md = med.get("day") or _GENERIC["day"]
        if de > 2.0 * float(md) and de > 400:
            return True
    return False


def assess_risk(
    norm: str,
    *,
    kind: str,
    trade_ids: Iterable[str] = (),
    wages: Sequence[Wage] = (),
    perks: Iterable[str] = (),
    town: str | None = None,
    outside_place: bool = False,
    medians: dict[str, dict[str, int | None]] | None = None,
) -> Risk:
    """Risk level and reasons for one normalised post."""
    if not norm:
        return Risk("ok")
    medians = medians or {}
    trade_ids = list(trade_ids)
    perks = set(perks)
    warning = bool(_WARNING_RE.search(norm)) and kind != "job"
    codes: list[str] = []
    for code, rx in _HARD_RES:
        if _hits(norm, rx, check_negation=True):
            codes.append(code)
    if warning and kind == "other":
        # an anti-fraud notice quotes the very words it warns about
        codes = []
    soft: list[str] = []
    for code, rx in _SOFT_RES:
        if _hits(norm, rx, check_negation=code in ("unpaid_trial", "data_harvest", "insider")):
            soft.append(code)
    if wages and kind == "job" and _high_pay(wages, medians, trade_ids[0] if trade_ids else None):
        soft.append("high_pay")
    lure_wage = any(w.text == "lure" or re.match(r"(日|天|每天|一天|月|每月)\s*(赚|入|收入)", w.text) for w in wages)
    if lure_wage and "lure" not in soft:
        soft.append("lure")
    if (
        "包吃" in perks
        and "包住" in perks
        and outside_place
        and town is None
        and "high_pay" in soft
    ):
        soft.append("out_of_area")
    is_online = "online_gig" in trade_ids or "online" in soft
    low = "low_req" in soft or "lure" in soft
    high = "high_pay" in soft or "lure" in soft
    pressure = "urgency" in soft or "flexible" in soft or is_online
    combo = (low and high and pressure) or ("lure" in soft and "high_pay" in soft)
    if is_online and ("lure" in soft or "high_pay" in soft or "low_req" in soft):
        combo = True
    if kind == "seeker" and not codes:
        # self-introductions are not screened for lure vocabulary
        return Risk("ok")
    if combo:
        codes.append("easy_high_pay")
    shown_soft = [c for c in soft if c in ("high_pay", "lure", "insider", "unpaid_trial", "data_harvest", "out_of_area")]
    if codes:
        all_codes = codes + [c for c in shown_soft if c not in codes]
        return Risk("hold", tuple(RISK_REASONS[c] for c in all_codes), tuple(all_codes))
    if shown_soft:
        return Risk("caution", tuple(RISK_REASONS[c] for c in shown_soft), tuple(shown_soft))
    return Risk("ok")
