"""Commands people type, tolerant of typos, homophones and synonyms.

A catalogue of intents, each with the phrases people actually use. Matching is exact first, then
fuzzy on characters and on toneless pinyin (注测 → zhuce = 注册), with a cutoff so that "no
command" is a possible answer, and a margin so that a near-tie is not guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from pypinyin import Style, lazy_pinyin
from rapidfuzz import fuzz

from matching.normalize import normalize

INTENTS: dict[str, tuple[str, ...]] = {
    "help": ("帮助", "help", "?", "怎么用", "使用说明", "说明", "求助", "不会用", "教程"),
    "menu": ("菜单", "menu", "主菜单", "功能", "开始", "你好", "您好", "在吗", "hi", "hello"),
    "cancel": ("取消", "退出", "算了", "不要了", "不弄了", "不填了", "停止", "结束", "cancel", "quit"),
    "back": ("返回", "上一步", "回上一步", "back"),
    "register_worker": ("登记", "注册", "零工登记", "我是零工", "工人登记", "求职登记", "找活登记"),
    "register_employer": ("雇主登记", "老板登记", "我是老板", "用工登记", "招工登记", "招人登记"),
    "find_jobs": ("找活", "我要找活", "找工作", "找事做", "我要干活", "有活吗", "看活", "求职", "找零工"),
    "post_job": ("招工", "招人", "我要招人", "发布", "发招工", "招聘", "要人", "我要招工", "发活"),
    "my_jobs": ("我的活", "我接的活", "我的单", "我接的单", "我报名的"),
    "my_orders": ("我的招工", "我发的", "我发的招工", "我的订单", "招工记录"),
    "unsubscribe": ("退订", "不要推送", "别推了", "取消订阅", "不要再发了"),
    "subscribe": ("订阅", "要推送", "恢复推送", "每天推送"),
    "profile": (
        "我的资料", "资料", "个人信息", "我的信息", "查看资料", "修改资料", "改资料", "我的登记",
    ),
}

_PUNCT = re.compile(r"[\s\W_]+", re.UNICODE)
_MAX_FUZZY_LEN = 8


@dataclass(frozen=True, slots=True)
class IntentMatch:
    """A recognised intent, how well it matched, and the phrase it matched."""

    intent: str
    score: float
    phrase: str


def compact(text: str) -> str:
    """Normalised text without spaces or punctuation (``？`` alone is kept as ``?``)."""
    norm = normalize(text)
    stripped = _PUNCT.sub("", norm)
    if not stripped and "?" in norm:
        return "?"
    return stripped


@lru_cache(maxsize=4096)
def _pinyin(text: str) -> str:
    return "".join(lazy_pinyin(text, style=Style.NORMAL, errors="default"))


@lru_cache(maxsize=1)
def _index() -> dict[str, tuple[str, str]]:
    index: dict[str, tuple[str, str]] = {}
    for intent, phrases in INTENTS.items():
        for phrase in phrases:
            index[compact(phrase)] = (intent, phrase)
    return index


def match_intent(text: str, *, cutoff: float = 80.0, margin: float = 5.0) -> IntentMatch | None:
    """The command a short message means, or None.

    Only short messages are read as commands: a sentence that merely contains 登记 is not one.
    """
    key = compact(text)
    if not key:
        return None
    index = _index()
    if key in index:
        intent, phrase = index[key]
        return IntentMatch(intent, 100.0, phrase)
    if len(key) > _MAX_FUZZY_LEN:
        return None
    key_py = _pinyin(key)
    best: dict[str, tuple[float, str]] = {}
    for cand, (intent, phrase) in index.items():
        if min(len(cand), len(key)) < 2:
            continue  # one-character phrases only match exactly
        score = fuzz.ratio(key, cand)
        if key_py and key_py != key:  # pinyin only helps for Chinese text
            score = max(score, fuzz.ratio(key_py, _pinyin(cand)) - 2)
        if score > best.get(intent, (0.0, ""))[0]:
            best[intent] = (score, phrase)
    if not best:
        return None
    ranked = sorted(best.items(), key=lambda kv: kv[1][0], reverse=True)
    top_intent, (top_score, top_phrase) = ranked[0]
    if top_score < cutoff:
        return None
    if len(ranked) > 1 and top_score - ranked[1][1][0] < margin:
        return None
    return IntentMatch(top_intent, top_score, top_phrase)


_CHOICE = re.compile(r"^(?:第)?([0-9])(?:个|项|号)?$")
_CN_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


def match_choice(text: str, options: range | set[int]) -> int | None:
    """A numbered-menu answer: ``1``, ``１``, ``第2个``, ``三``, ``3号`` → the number, if offered."""
    key = compact(text)
    if not key:
        return None
    key = key.removeprefix("第")
    if key and key[0] in _CN_DIGITS and len(key) <= 2:
        value: int | None = _CN_DIGITS[key[0]]
        if len(key) == 2 and key[1] not in "个项号":
            value = None
    else:
        m = _CHOICE.match(key)
        value = int(m.group(1)) if m else None
    return value if value is not None and value in options else None


# Commands that carry an order code (and sometimes a number or more text): ``接 3827``,
# ``选 3827 2``, ``改时间 3827 明天8点``. The verb is matched like an intent.
CODE_COMMANDS: dict[str, tuple[str, ...]] = {
    "take": ("接", "接单", "接活", "报名", "我去", "我要去", "抢", "抢单", "我接", "要去"),
    "withdraw": ("退", "退单", "退出", "不去了", "不去", "我不去了", "放弃"),
    "view": ("看", "查看", "查", "详情", "看看"),
    "applicants": ("看报名", "报名的", "谁报名", "看人", "报名名单"),
    "pick": ("选", "录用", "要", "就要", "选人"),
    "decline": ("不要", "不录用", "拒绝", "不选"),
    "cancel_order": ("取消招工", "撤单", "不招了", "撤销", "取消订单", "删除招工"),
    "cancel_code": ("取消", "算了", "不要了"),
    "change_headcount": ("改人数", "人数改", "改成", "加人", "减人"),
    "change_start": ("改时间", "时间改", "改开工", "改日期"),
    "confirm_price": ("确认", "确认价格", "价格确认", "同意价格", "可以", "没问题"),
    "propose_price": ("议价", "还价", "讲价", "改价", "要价", "出价"),
    "sign": ("同意", "签字", "签", "签合同", "确认签字", "同意签字"),
    "check_in": ("签到", "到了", "我到了", "已到", "到岗", "打卡"),
    "complete": ("完工", "确认完工", "干完了", "做完了", "结束了"),
    "paid": ("已付", "付了", "已付款", "付款", "已支付", "给钱了", "发工资"),
    "received": ("已收到", "收到", "收到了", "收到钱了", "已收款"),
    "not_received": ("没收到", "未收到", "没收到钱", "没给钱"),
    "rate": ("评价", "打分", "评分", "给分"),
    "dispute": ("投诉", "协商", "纠纷", "没干完", "要钱", "讨薪"),
    "report": ("举报", "虚假", "骗子", "黑中介"),
    "case_offer": ("方案", "提方案", "我的方案"),
    "case_accept": ("同意方案", "接受方案", "接受"),
    "still_hiring": ("还招", "还在招", "继续招", "还要人"),
    "training_signup": ("培训报名", "报名培训", "参加培训", "报名招聘会", "参加招聘会"),
    "link_web": ("绑定", "绑定网页", "网页绑定"),
}

# Commands whose number is a case id (short) rather than an order code (4 digits or more).
CASE_COMMANDS = frozenset({"case_offer", "case_accept"})

_CODE_CMD = re.compile(r"^\s*(?P<verb>[^\d]{1,8}?)\s*(?P<code>\d{1,8})(?:\s+|(?=[^\d])|$)(?P<rest>.*)$")


@dataclass(frozen=True, slots=True)
class CodeCommand:
    """A command naming an order or case code, e.g. ``接 3827``."""

    intent: str
    code: str
    rest: str
    """What follows the code (a number for 选/改人数, a time for 改时间), stripped."""


@lru_cache(maxsize=1)
def _verb_index() -> dict[str, str]:
    return {compact(v): intent for intent, verbs in CODE_COMMANDS.items() for v in verbs}


def match_code_command(text: str) -> CodeCommand | None:
    """``接 3827`` → take 3827. Typos in the verb are tolerated like any command."""
    norm = normalize(text)
    m = _CODE_CMD.match(norm)
    if not m:
        return None
    verb = compact(m.group("verb"))
    if not verb:
        return None
    index = _verb_index()
    intent = index.get(verb)
    if intent is None and len(verb) == 1:
        # One character: accept an exact homophone of a one-character verb (结 → 接).
        same = {i for v, i in index.items() if len(v) == 1 and _pinyin(v) == _pinyin(verb)}
        intent = same.pop() if len(same) == 1 else None
    if intent is None and len(verb) >= 2:
        verb_py = _pinyin(verb)
        scored = sorted(
            (
                (max(fuzz.ratio(verb, v), fuzz.ratio(verb_py, _pinyin(v)) - 2), i)
                for v, i in index.items()
                if len(v) >= 2
            ),
            reverse=True,
        )
        clear = len(scored) < 2 or scored[0][1] == scored[1][1] or scored[0][0] - scored[1][0] >= 5
        if scored and scored[0][0] >= 80 and clear:
            intent = scored[0][1]
    if intent is None:
        return None
    if len(m.group("code")) < 4 and intent not in CASE_COMMANDS:
        return None
    return CodeCommand(intent, m.group("code"), m.group("rest").strip())
