"""Every user-visible string that market services send on their own (notifications, refusals)."""

from __future__ import annotations

# --- refusals -----------------------------------------------------------------------------------
NO_SUCH_ORDER = "没找到编号为 {code} 的招工，请核对编号。"
ORDER_FULL = "这单（{code}）已经招满了，下次早点哦。回「找活」看别的活。"
ORDER_NOT_OPEN = "这单（{code}）{status}，不能接了。"
ALREADY_TAKEN = "您已经接了这单（{code}），不用重复报名。"
ALREADY_APPLIED = "您已经报名这单（{code}），等老板挑人，会通知您。"
OWN_ORDER = "这是您自己发的招工，不能自己接。"
NOT_WORKER = "接活前请先登记：回「登记」，一分钟就好。"
NOT_EMPLOYER = "发招工前请先登记招人信息：回「招工登记」。"
NOT_YOUR_ORDER = "这单不是您发的，不能修改。"
NOT_TAKEN = "您没有接这单（{code}）。"
TOO_LATE_TO_WITHDRAW = "已经开工了，不能退出。有问题请回「投诉 {code}」或打热线 {hotline}。"
HEADCOUNT_BELOW_CONFIRMED = "已经有 {confirmed} 人接单，人数不能少于 {confirmed}。"
NO_SUCH_APPLICANT = "没有第 {n} 号报名的人。"
ORDER_FINISHED = "这单已经{status}，不能再改。"

STATUS_LABELS = {
    "held": "待审核",
    "open": "正在招",
    "full": "已招满",
    "in_progress": "已开工",
    "completed": "已完工",
    "closed": "已结束",
    "cancelled": "已取消",
    "expired": "已过期",
}

# --- notifications ------------------------------------------------------------------------------
TAKEN_WORKER = "接单成功！{card}\n开工前会再提醒您。不去了回「退 {code}」。"
APPLIED_WORKER = "报名成功！老板挑好人会通知您。{card}\n不想去了回「退 {code}」。"
TAKEN_EMPLOYER = "{name}（{phone}）接了您的招工 {code}，已招 {confirmed}/{headcount} 人。"
APPLIED_EMPLOYER = (
    "{name} 报名了您的招工 {code}（共 {applicants} 人报名）。"
    "回「看报名 {code}」挑人。"
)
PICKED_WORKER = "老板选了您！{card}\n不去了回「退 {code}」。"
DECLINED_WORKER = "很遗憾，招工 {code} 老板没有选您。回「找活」看别的活。"
WITHDRAWN_WORKER = "已退出招工 {code}。"
WITHDRAWN_EMPLOYER = "{name} 退出了您的招工 {code}，现在 {confirmed}/{headcount} 人，已重新开放报名。"
CANCELLED_WORKER = "招工 {code}（{trade}）被老板取消了，不用去了。抱歉！"
CHANGED_WORKER = "招工 {code} 有变化：{change}。\n{card}\n不能去了回「退 {code}」。"
FULL_EMPLOYER = "您的招工 {code} 已招满 {headcount} 人。"
