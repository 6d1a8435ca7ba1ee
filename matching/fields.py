"""Smaller fields of a post: headcount, contact name, perks, requirements, and the post kind."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from matching.numbers import parse_count

__all__ = [
    "Requirements",
    "classify_kind",
    "find_contact_name",
    "find_headcount",
    "find_perks",
    "find_requirements",
]

# ---------------------------------------------------------------------------- headcount

_CNT = r"\d{1,3}|[一二两三四五六七八九十]{1,3}|几|数|多|俩|仨"
_HEAD_RE = re.compile(
    rf"(?P<each>各|每样|每种)?\s*(?P<a>{_CNT})(?:(?:-|~|到|至)(?P<b>\d{{1,3}}|[一二两三四五六七八九十]{{1,3}}))?"
    r"(?P<u>名|个|位|人)(?P<x>人|员工|工人|师傅|阿姨|大姐|小工|大工|男工|女工|左右|以上|以内)?"
)
_HEAD_BAD_AFTER_RE = re.compile(
    r"(?:月|小时|钟|点|工作日|多月|礼拜|星期|平方|平米|方|字|岁|年|天|号|工(?![人友匠地])|"
    r"样|种|项|地方|村|镇|乡|条|件|斤|竿|桶|箱|车|电话|微信|手机|老板|厂|点位|孩子|小孩|老人|宝宝|"
    r"赞|单|张|台|数|字|群|号|钟|[\d一二两三四五六七八九十百])"
)
_HEAD_BAD_BEFORE_RE = re.compile(r"(第|前|后|这|那|哪|每|共|约|满|只有|已有|有|拉|¥|元|块|\d[./:-]?)$")
_ONE_RE = re.compile(
    r"(?:要|找|请|招|需要|讨|叫)个(?=[\u4e00-\u9fff])(?!月|小时|星期|礼拜|地方|活|事|工作|人帮)"
    r"(?![^,，。 ]{0,8}(?:的活|活干|活做|工作))"
)
_SOME_RE = re.compile(r"若干|多名|数名|一批|大量|不限人数|人数不限|很多人|多人")
_COUPLE_RE = re.compile(r"(?:夫妻(?:俩|两人|2人|二人|两个)?|两口子|夫妻档)(?!工?优先|也可|可以|均可)")
_PAIR_RE = re.compile(r"(?:找|要|招|请|讨|需要)(俩|仨)(?=[\u4e00-\u9fff])")
_SEEKER_GROUP_RE = re.compile(
    rf"(?:我们|本队|团队|班组|队伍|一共|共)\D{{0,4}}?({_CNT})\s*(?:个|名|位)?\s*人"
    rf"|(?<![\d])({_CNT})\s*(?:个|名|位)\s*(?:人|小伙|小伙子|妇女|阿姨|大姐|兄弟|师傅|老乡|男的|女的)"
)


def find_headcount(norm: str, kind: str = "job", n_trades: int = 0) -> int | None:
    """Total number of workers wanted (job) or offered (seeker group), else None.

    Several counts add up (大工2名 小工3名 → 5); 各2人 multiplies by the trades named (n_trades);
    a range counts its upper bound; 若干 / 多名 give None.
    """
    if not norm:
        return None
    if kind == "seeker":
        if _COUPLE_RE.search(norm):
            return 2
        m = _SEEKER_GROUP_RE.search(norm)
        if m:
            n = parse_count(m.group(1) or m.group(2))
            return n if n and n >= 2 else None
        return None
    total = 0
    found = False
    for m in _HEAD_RE.finditer(norm):
        a = m.group("a")
        after = norm[m.end("u") : m.end("u") + 3]
        if not m.group("x") and _HEAD_BAD_AFTER_RE.match(after):
            continue
        before = norm[max(0, m.start("a") - 2) : m.start("a")]
        if not m.group("each") and _HEAD_BAD_BEFORE_RE.search(before):
            continue
        if m.group("u") == "个" and not m.group("x"):
            # "3个" counts people only next to a trade or a hiring word: "泥水师傅3个", "招3个"
            ctx = norm[max(0, m.start() - 12) : m.start()]
            if not re.search(r"(招|要|需|缺|找|请|聘|工|师傅|阿姨|员|手|人)\s*[\u4e00-\u9fff]{0,6}\s*$", ctx):
                continue
        if a in ("几", "数", "多") or norm[m.start("a") - 1 : m.start("a")] in ("十", "几"):
            continue  # 几个人 / 十几个人: vague, not a headcount
        n = parse_count(m.group("b") or a)
        if n is None or n <= 0 or n > 500:
            continue
        if m.group("each"):
            n *= max(1, n_trades)
        total += n
        found = True
    if found:
        return total
    if _COUPLE_RE.search(norm):
        return 2
    pm = _PAIR_RE.search(norm)
    if pm:
        return 2 if pm.group(1) == "俩" else 3
    if _ONE_RE.search(norm):
        return 1
    return None


# ---------------------------------------------------------------------------- contact name

_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蔡蒋余杜叶程魏苏吕丁任"
    "沈姚卢傅钟姜崔谭廖范汪陆金石戴贾韦夏邱方侯邹熊孟秦白江阎薛尹段雷黎史龙陶贺顾毛郝龚邵万钱严"
    "覃武戴莫孔向汤乐俞詹官连池蔡柯卓温包童兰"
)
_TITLES = r"老板娘|老板|总|姐|哥|先生|女士|小姐|经理|阿姨|师傅|老师|主任|叔|大姐|大哥|工头|队长|厂长|会计|老总"
_CONTACT_RE = re.compile(
    rf"(?:联系人\s*[:：]?\s*)?(?P<n>[{_SURNAMES}](?:{_TITLES}))(?![价共计部额数监裁结体])"
    rf"|联系人\s*[:：]?\s*(?P<n2>[{_SURNAMES}][\u4e00-\u9fff]{{0,2}}?)(?=[\s\d,，。;；:：电手]|$)"
    rf"|(?:联系|找|打给|问|电话)\s*[:：]?\s*(?P<n3>老[{_SURNAMES}])(?=[\s\d,，。;；:：电手]|$)"
    rf"|(?:我|本人)\s*姓\s*(?P<n4>[{_SURNAMES}])"
)
# words that look like surname+title but are not names
_NOT_NAMES = {"大姐", "老板", "包工头", "高总", "万师傅", "方师傅", "向老师"}


def find_contact_name(norm: str) -> str | None:
    """Contact name as written (王老板, 陈姐, 老张), or None."""
    for m in _CONTACT_RE.finditer(norm):
        name = m.group("n") or m.group("n2") or m.group("n3") or m.group("n4")
        if not name or name in _NOT_NAMES:
            continue
        start = m.start("n") if m.group("n") else m.start()
        prev = norm[start - 1 : start] if m.group("n") else ""
        # 泥水师傅 / 水电师傅: a trade, not a surname
        if m.group("n") and prev and re.match(r"[\u4e00-\u9fff]", prev) and not re.match(
            r"[找联系叫问打给是由的,，:：人]", prev
        ):
            continue
        return name
    return None


# ---------------------------------------------------------------------------- perks

_PERK_PATTERNS: list[tuple[str, tuple[str, ...]]] = [
    (r"包吃包住|包吃住|包食宿|管吃住|管吃管住|吃住全包|食宿全包|提供食宿|食宿免费|吃住免费|包三餐住宿|吃住公司出", ("包吃", "包住")),
    (r"包吃|管饭|包饭|包餐|包三餐|包两餐|包午饭|包中饭|包中餐|包午餐|管午饭|管中饭|中午管饭|供餐|提供午餐|"
     r"提供三餐|提供工作餐|包伙食|管一餐|包一餐|管吃|管两餐|管三餐|有工作餐|免费工作餐|中午饭管|包早餐", ("包吃",)),
    (r"包住|提供住宿|有宿舍|免费住宿|管住|住宿免费|提供宿舍|包住宿|可住宿|有住的地方|可以住|能住|有地方住|可以睡", ("包住",)),
    (r"在这吃|在这里吃|在这边吃|饭我管|饭管|管吃饭|吃饭老板管|包晚餐|包晚饭|管晚饭", ("包吃",)),
    (r"接送(?!小孩|孩子|学生|老人|上下学)|车接车送|有车接|班车|专车|来载|车子接|车来接|开车来接|来接你", ("接送",)),
    (r"买保险|有保险|意外险|购买保险|上保险|保险(?:公司|老板)?(?:买|出|负责)|工伤保险|保险包", ("保险",)),
    (r"社保|五险", ("社保",)),
    (r"补贴|餐补|车补|交通补|高温补|话补|饭补|住房补|补助", ("补贴",)),
    (r"加班费|加班另算|加班另计|加班双倍", ("加班费",)),
    (r"包工具|提供工具|工具提供|工具我出|工具老板出|工具由.{0,3}提供|工具齐全|不用带工具", ("包工具",)),
    (r"报销路费|路费报销|车费报销|报销车费", ("报销路费",)),
]
_PERK_RES = [(re.compile(p), perks) for p, perks in _PERK_PATTERNS]
_PERK_NEG_BEFORE_RE = re.compile(r"(不|没有|无|没)\s*$")
_PERK_NEG_AFTER_RE = re.compile(r"^\s*(自理|自付|另算|不包)")
PERK_ORDER = ("包吃", "包住", "接送", "保险", "社保", "补贴", "加班费", "包工具", "报销路费")


def find_perks(norm: str) -> list[str]:
    """Perks offered, canonical and in a fixed order (包吃, 包住, 接送, 保险...)."""
    got: set[str] = set()
    blocked: set[str] = set()
    for rx, perks in _PERK_RES:
        for m in rx.finditer(norm):
            before = norm[max(0, m.start() - 2) : m.start()]
            after = norm[m.end() : m.end() + 3]
            if _PERK_NEG_BEFORE_RE.search(before) or _PERK_NEG_AFTER_RE.match(after):
                blocked.update(perks)
                continue
            got.update(perks)
    # "吃住自理" / "不包吃住" block; "包接送" etc. already counted
    if re.search(r"吃住自理|食宿自理|不包吃住|吃住不包", norm):
        got.discard("包吃")
        got.discard("包住")
    return [p for p in PERK_ORDER if p in got and p not in (blocked - got)]


# ---------------------------------------------------------------------------- requirements


@dataclass(frozen=True, slots=True)
class Requirements:
    """Who is wanted (job posts) or who is offering (self-introductions: age, gender...).

    ``age`` is the seeker's own stated age; age_min/age_max are a job's limits.
    """

    age_min: int | None = None
    age_max: int | None = None
    gender: str | None = None  # "male" | "female"
    experience: bool | None = None
    certificates: tuple[str, ...] = field(default_factory=tuple)
    age: int | None = None

    def to_json_dict(self) -> dict[str, object]:
        return {
            "age_min": self.age_min,
            "age_max": self.age_max,
            "gender": self.gender,
            "experience": self.experience,
            "certificates": list(self.certificates),
            "age": self.age,
        }


_AGE_N = r"\d{2}|[二三四五六七八][十](?:[一二三四五六七八九])?"
_AGE_RANGE_RE = re.compile(rf"({_AGE_N})\s*(?:周?岁)?\s*(?:-|~|到|至|—)\s*({_AGE_N})\s*周?岁")
_AGE_MAX_RE = re.compile(
    rf"(?:({_AGE_N})\s*周?岁(?:以下|以内|之内|内|下)|(?:年龄)?(?:不超过|不大于|不能超过|不要超过|小于|低于|限)\s*({_AGE_N})\s*周?岁?)"
)
_AGE_MIN_RE = re.compile(rf"({_AGE_N})\s*周?岁(?:以上|及以上)|(?:年满|满|大于)\s*({_AGE_N})\s*周?岁")
_SELF_AGE_RE = re.compile(
    rf"(?:本人|我|今年|男|女|年龄)\D{{0,3}}?({_AGE_N})\s*(?:多)?周?岁(?!以|之|及|内|下|上|-|~|到|至)"
    rf"|(?:今年|年龄)\s*({_AGE_N})(?![\d年月号点元块])"
)
_BARE_AGE_RE = re.compile(rf"(?<![\d~-])({_AGE_N})\s*(?:多)?周?岁(?!以|之|及|内|下|上|-|~|到|至)")
_MALE_RE = re.compile(r"(?:招|聘|要|需)\S{0,3}?男(?=服务员|店员|营业员|员工|保安|工人)|限男|男性|(?<![\u4e00-\u9fff])男士|男工|要男的|只要男|男的|男生|男同志|男(?=[\s,，、/]|$)|^男|本人男")
_FEMALE_RE = re.compile(
    r"限女|女性|女工|要女的|只要女|女的|女生|女同志|女(?=[\s,，、/]|$)|^女|本人女|(?:招|聘|要|需)\S{0,3}?女(?=服务员|店员|营业员|收银|员工|保洁|工人)"
)
_SELF_MALE_RE = re.compile(r"大叔|大哥|小伙|男子|老汉")
_SELF_FEMALE_RE = re.compile(r"大姐|阿姨|宝妈|妇女|大妈|姐妹")
_ANY_GENDER_RE = re.compile(r"男女不限|男女均可|男女都|不限男女|男女工|夫妻|男女各")
_EXP_YES_RE = re.compile(
    r"有经验|要经验|需经验|经验丰富|熟手|老手|有相关经验|\d+年以上|[一二三四五六七八九十]年以上|"
    r"(?:\d+|[一二三四五六七八九十几]+)年(?:的)?(?:工作)?经验|干了(?:\d+|[一二三四五六七八九十几]+)年|"
    r"做了(?:\d+|[一二三四五六七八九十几]+)年|(?:\d+|[一二三四五六七八九十几]+)年工龄|技术过硬|手艺好|"
    r"(?:从事|干|做).{0,8}?(?:\d{1,2}|[一二三四五六七八九十几]+)多?年|"
    r"(?:做|干)过.{0,8}?(?:\d{1,2}|[一二三四五六七八九十几]+)年|经验丰富|很有经验|有[^,，。;；]{1,6}经验"
)
_SEEKER_EXP_RE = re.compile(
    r"(?:都|也)?(?:做|干)过|(?<![\d年])(?:[一二三四五六七八九十]{1,3}|\d{1,2})多?年(?:了|经验|工龄)?(?![\d月号级底前后])"
)
_EXP_NO_RE = re.compile(r"无需经验|不需要经验|不要经验|不需经验|无经验|经验不限|零基础|新手|生手|可带|包教|可教|有人带|不会可以学|不会的可以学|学徒")
_CERTS: list[tuple[str, str]] = [
    (r"电工证|电工操作证", "电工证"),
    (r"焊工证|电焊证", "焊工证"),
    (r"叉车证", "叉车证"),
    (r"健康证", "健康证"),
    (r"挖机证|挖掘机证|挖机操作证", "挖机证"),
    (r"塔吊证", "塔吊证"),
    (r"高空作业证|登高证", "高空作业证"),
    (r"厨师证", "厨师证"),
    (r"护理证|护工证|养老护理员证", "护理证"),
    (r"育婴师证|育婴证", "育婴师证"),
    (r"月嫂证|母婴护理证", "月嫂证"),
    (r"保安证|保安员证", "保安证"),
    (r"特种作业证|特种作业操作证", "特种作业证"),
    (r"上岗证", "上岗证"),
    (r"教师资格证", "教师资格证"),
    (r"农机驾驶证|农机证|拖拉机驾驶证", "农机驾驶证"),
]
_CERT_RES = [(re.compile(p), name) for p, name in _CERTS]
_LICENCE_RE = re.compile(r"(?<![a-z0-9])([abc][12])\s*(?:驾照|驾驶证|照|本|以上驾照|驾驶执照)|(驾照|驾驶证)")


def _age(s: str | None) -> int | None:
    if not s:
        return None
    n = parse_count(s)
    return n if n is not None and 14 <= n <= 90 else None


def find_requirements(norm: str, kind: str = "job") -> Requirements:
    """Age limits, gender, experience and certificates (or the seeker's own age/gender)."""
    age_min = age_max = age = None
    m = _AGE_RANGE_RE.search(norm)
    if m:
        age_min, age_max = _age(m.group(1)), _age(m.group(2))
    else:
        mx = _AGE_MAX_RE.search(norm)
        if mx:
            age_max = _age(mx.group(1) or mx.group(2))
        mn = _AGE_MIN_RE.search(norm)
        if mn:
            age_min = _age(mn.group(1) or mn.group(2))
    if kind == "seeker":
        sm = _SELF_AGE_RE.search(norm) or _BARE_AGE_RE.search(norm)
        if sm:
            age = _age(next(g for g in sm.groups() if g))
    gender = None
    if not _ANY_GENDER_RE.search(norm):
        male = _MALE_RE.search(norm)
        female = _FEMALE_RE.search(norm)
        if male and not female:
            gender = "male"
        elif female and not male:
            gender = "female"
        elif kind == "seeker" and not male and not female:
            sm_ = bool(_SELF_MALE_RE.search(norm))
            sf_ = bool(_SELF_FEMALE_RE.search(norm))
            gender = "male" if sm_ and not sf_ else "female" if sf_ and not sm_ else None
    experience = None
    no = _EXP_NO_RE.search(norm)
    if no and not (no.group() == "学徒" and re.search(r"师傅|大工|熟手", norm)):
        experience = False
    elif _EXP_YES_RE.search(norm) or (kind == "seeker" and _SEEKER_EXP_RE.search(norm)):
        experience = True
    certs: list[str] = []
    for rx, name in _CERT_RES:
        if rx.search(norm) and name not in certs:
            certs.append(name)
    for lm in _LICENCE_RE.finditer(_CERT_RES[-1][0].sub(" ", norm)):
        name = f"{lm.group(1).upper()}驾照" if lm.group(1) else "驾照"
        if name not in certs:
            certs.append(name)
    if any(c.endswith("驾照") and c != "驾照" for c in certs) and "驾照" in certs:
        certs.remove("驾照")
    return Requirements(age_min, age_max, gender, experience, tuple(certs), age)


# ---------------------------------------------------------------------------- kind

_JOB_STRONG_RE = re.compile(
    r"(?<![打])招(?!呼|牌|待|商|生|标|手|惹|供|认|架|数|式|了吗|聘会|够|满|到了|工信息)|诚聘|聘请|聘用|急需|急缺|缺人|缺工|"
    r"用工|来人|人手不够|要人|有意者|有意向|有意的|欢迎来电|速来|报名从速|电话联系|联系电话|联系方式|"
    r"工资日结|工资面议|待遇从优|包吃住|有活干|有活做|活多|长期有活|需要.{0,6}(?:人|工|师傅|阿姨|司机|员)|"
    r"(?:找|要|需|请|讨)\s*(?:\d+|[一二两三四五六七八九十几])\s*(?:个|名|位)(?![^,，。 ]{0,8}(?:的活|活干|活做|工作))|"
    r"(?:要|请|讨)个|找个(?![^,，。 ]{0,8}(?:活|工作|事))|兼职|工作内容|谁有空|有空的来|"
    r"上班时间|工作时间|帮我|给你|哪个会|谁会|有没有会|入职|上岗|月薪|底薪|外发|回收|赚钱|收购|出租|招募|"
    r"代理|岗位|职位|人数|薪资"
)
_SEEKER_RE = re.compile(
    r"本人|求职|找活|找工作|找事做|找份|求工作|寻找工作|寻工作|有活.{0,4}(?:叫|找|联系|喊|call|介绍)|"
    r"叫我|联系我(?!们)|有没有活|有活吗|有没有.{0,6}(?:活|工作|事)(?:干|做)?[吗啊呀?？]|哪里有活|谁有活|求带|接活|"
    r"我会|我能|我可以|能吃苦|(?<!需要)(?<!要)(?<!的)会开|都能做|都可以做|都能干|都会|想找|找个活|找点活|"
    r"(?:我|本人).{0,8}(?:干过|做过)|都做过|经验.{0,2}\d+年|\d+年经验|夫妻俩|两口子|求介绍|求推荐|"
    r"找.{0,10}(?:的活|活干|活做|事做|工作|的工作|零工|短工|临时工)|找.{0,4}活|(?:我|我们).{0,6}(?:找|想)|"
    r"接.{0,4}(?:活|工程|单子)|承接|本队|班组|有没有需要|有没有人要|谁需要|哪里需要|(?<!谁)有空(?!的来|的人|啊)|我是.{1,6}的|"
    r"力气大|身体好|工资好说|价格好谈|价格实惠|专业(?:做|从事|承接|维修|疏通|安装|清洗)|上门服务|随时上门|包上门"
)
_OTHER_STRONG_RE = re.compile(
    r"招够|招满|满人|不用来|人够了|停工|群公告|公告|通知|温馨提示|提醒|谨防|防骗|反诈|转发：|招聘会|"
    r"还要人吗|还缺人吗|还要不要人|还招吗|"
    r"好吃|靠谱吗|到哪|下班了|吃饭了"
)
_QUESTION_ASK_JOB_RE = re.compile(r"(?:哪里|谁|哪家|有没有).{0,8}(?:招|要人|缺人|活)")


def classify_kind(norm: str, *, n_trades: int, n_wages: int, has_phone: bool, headcount: int | None) -> str:
    """'job' | 'seeker' | 'other' from cue words plus the extracted fields."""
    if not norm:
        return "other"
    job = 0.0
    seek = 0.0
    jm = _JOB_STRONG_RE.findall(norm)
    job += 2.0 * min(len(jm), 2)
    sm = _SEEKER_RE.findall(norm)
    seek += 2.0 * min(len(sm), 3)
    if _QUESTION_ASK_JOB_RE.search(norm):
        seek += 1.0
    structure = (n_trades > 0) + (n_wages > 0) + has_phone + (headcount is not None)
    if n_trades and n_wages:
        job += 1.0
    if headcount is not None:
        job += 1.0
    if has_phone and n_trades:
        job += 0.5
    if re.search(r"^(本人|我是|我叫|我今年|本人今年)", norm):
        seek += 3.0
    if re.search(r"本人.{0,8}(?:招|诚聘)|本公司|我公司|我厂|本厂", norm):
        seek -= 4.0
        job += 2.0
    other = bool(_OTHER_STRONG_RE.search(norm))
    warning = bool(re.search(r"防骗|骗子|诈骗|谨防|反诈|骗人", norm))
    hiring = re.search(r"(?<![打])招(?!聘会|够|满)|诚聘|急需", norm)
    if other and n_wages == 0 and headcount is None and (warning or not hiring):
        return "other"
    if job <= 0 and seek <= 0:
        # no cue words: a bare trade + wage (+ phone) is still an ad
        if n_trades and (n_wages or headcount is not None):
            return "job"
        return "other"
    if seek > job:
        return "seeker"
    if job > seek:
        return "job" if (structure >= 1 or job >= 2) else "other"
    return "seeker" if structure <= 2 else "job"
