"""Every user-visible Chinese string produced by ``matching`` (risk reasons), in one place.

Reasons are shown to operators reviewing a held post and, shortened, to workers as a warning;
keep them short, plain and free of jargon.
"""

from __future__ import annotations

from typing import Final

RISK_REASONS: Final[dict[str, str]] = {
    # hard red flags (hold)
    "deposit": "要求交押金、保证金（招工收押金是违法的）",
    "fee": "向求职者收钱（培训费、报名费、中介费、服装费、体检费等）",
    "training_loan": "先培训再上岗或贷款培训，疑似“招转培”",
    "task_scam": "疑似刷单、点赞、做任务返利类诈骗",
    "task_scam_late": "出现充值、垫付、卡单、解冻费等刷单诈骗话术",
    "off_platform": "引导加私人微信、QQ、下载APP或扫码进群",
    "id_or_bank": "索要身份证原件、银行卡、验证码等",
    "pyramid": "疑似传销：拉人头、发展下线、交提货款",
    "adult": "疑似陪侍、色情类岗位",
    "gambling": "涉及赌博、跑分等违法活动",
    "travel_fee": "要求先交路费、车费或住宿费",
    # softer signals (caution, or hold when combined)
    "high_pay": "工资远高于本地同类工种的水平",
    "lure": "“轻松赚钱、在家手机操作”等诱导用语",
    "easy_high_pay": "要求低、工资高、又催得急，符合虚假招聘的特征",
    "insider": "声称内推、包过、保录取",
    "unpaid_trial": "试工期间不给工钱",
    "data_harvest": "要求改群名片或交个人资料",
    "out_of_area": "包吃住高工资又要去外地，注意核实",
}

RISK_LEVEL_LABELS: Final[dict[str, str]] = {
    "ok": "正常",
    "caution": "注意",
    "hold": "待审核",
}

# --- match explanations (matching.score / matching.digest, issue 6) -----------------------------
# One short line per offered job: "同镇 · 泥水工 · 日结380 · 今天开工". Placeholders: {town} is a
# town's short name (夏茂), {yuan} an amount in yuan without the 元 (380, 12.5).
MATCH_SEP: Final = " · "
MATCH_SAME_TOWN: Final = "同镇"
MATCH_IN_TOWN: Final = "{town}"  # one of the worker's several towns, or a whole-county worker
MATCH_NEIGHBOUR_TOWN: Final = "邻镇{town}"
MATCH_FAR_TOWN: Final = "{town}"
MATCH_TOWN_UNKNOWN: Final = "地点待问"
MATCH_TRADE_LEVEL: Final[dict[str, str]] = {"helper": "{name}(小工)", "skilled": "{name}(大工)"}
MATCH_WAGE: Final[dict[str, str]] = {
    "day": "日结{yuan}",
    "half_day": "半天{yuan}",
    "hour": "一小时{yuan}",
    "week": "一周{yuan}",
    "month": "月薪{yuan}",
    "piece": "计件{yuan}元",
    "total": "包干{yuan}",
}
MATCH_START_TODAY: Final = "今天开工"
MATCH_START_TOMORROW: Final = "明天开工"
MATCH_START_ON: Final = "{month}月{day}日开工"
