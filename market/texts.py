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
TAKEN_WORKER = "接单成功！{card}\n{price}\n不去了回「退 {code}」。"
APPLIED_WORKER = "报名成功！老板挑好人会通知您。{card}\n不想去了回「退 {code}」。"
TAKEN_EMPLOYER = "{name}（{phone}）接了您的招工 {code}，已招 {confirmed}/{headcount} 人。"
APPLIED_EMPLOYER = (
    "{name} 报名了您的招工 {code}（共 {applicants} 人报名）。"
    "回「看报名 {code}」挑人。"
)
PICKED_WORKER = "老板选了您！{card}\n{price}\n不去了回「退 {code}」。"
DECLINED_WORKER = "很遗憾，招工 {code} 老板没有选您。回「找活」看别的活。"
WITHDRAWN_WORKER = "已退出招工 {code}。"
WITHDRAWN_EMPLOYER = "{name} 退出了您的招工 {code}，现在 {confirmed}/{headcount} 人，已重新开放报名。"
CANCELLED_WORKER = "招工 {code}（{trade}）被老板取消了，不用去了。抱歉！"
CHANGED_WORKER = "招工 {code} 有变化：{change}。\n{card}\n不能去了回「退 {code}」。"
FULL_EMPLOYER = "您的招工 {code} 已招满 {headcount} 人。"

# --- price and contract -------------------------------------------------------------------------
PRICE_PROMPT_WORKER = "工资 {wage}。没问题回「确认 {code}」；想谈价回「议价 {code} 金额」，例如：议价 {code} 400"
PRICE_PROPOSED_TO_EMPLOYER = (
    "{name}（第{n}号）对招工 {code} 想要 {wage}。同意回「确认 {code} {n}」，"
    "还价回「议价 {code} {n} 金额」。"
)
PRICE_PROPOSED_TO_WORKER = "老板把招工 {code} 的工资改为 {wage}。同意回「确认 {code}」，还价回「议价 {code} 金额」。"
PRICE_WAIT_OTHER = "已把 {wage} 发给对方，等对方确认。"
PRICE_AGREED = "价格已确认：{wage}。合同马上发给您。"
NOT_CONFIRMED_ON_ORDER = "您还没有接到这单（{code}），不能确认价格。"
PRICE_ALREADY_AGREED = "价格已经确认过了，请看合同签字。"
CONTRACT_SUMMARY = (
    "甲方（老板）：{employer}\n乙方（工人）：{worker}\n活：{trade}，{place}\n开工：{start}\n"
    "工资：{wage}，完工后 {due} 小时内付清\n保险：{insurance}"
)
CONTRACT_TO_SIGN = (
    "【电子合同 {no}】招工 {code}\n{summary}\n"
    "全文（可打印）：{url}\n校验码 {hash8}\n"
    "同意请回复：同意 {sign_code}"
)
CONTRACT_OTHER_SIGNED = "对方已签字（招工 {code}）。您同意请回复：同意 {sign_code}"
CONTRACT_SIGNED = "合同 {no} 双方已签字，生效了（招工 {code}，校验码 {hash8}）。开工当天到场回「签到 {code}」。"
ALREADY_SIGNED = "您已经签过这份合同了。"
NO_SUCH_CONTRACT = "签字码 {code} 不对，或合同已经更新。请看最新的合同消息。"
CONTRACT_TAMPERED = "合同文本校验不通过，已暂停签字，请联系热线 {hotline}。"
PICK_WHICH_PRICE = "请说是第几号工人，例如：确认 {code} 1"
BAD_PRICE = "价格不对，请写一个钱数，例如：议价 3827 400"

# --- attendance, completion, payment --------------------------------------------------------------
CHECKED_IN = "签到成功（招工 {code}），注意安全！完工后老板会确认工作量。"
ALREADY_CHECKED_IN = "您已经签到过了（招工 {code}）。"
TOO_EARLY_TO_CHECK_IN = "还没到开工时间（{when}），开工前 3 小时内才能签到。"
CHECK_IN_EMPLOYER = "{name} 已到岗签到（招工 {code}）。"
NOTHING_TO_COMPLETE = "招工 {code} 没有需要确认完工的工人。"
COMPLETED_WORKER = (
    "老板确认您完工了（招工 {code}）：{quantity}，应得 {amount}，"
    "应在 {due} 前付清。收到钱后回「已收到 {code}」。没收到或不对，回「投诉 {code}」或打热线 {hotline}。"
)
NO_SHOW_WORKER = "老板说您没有到岗（招工 {code}），记了一次缺勤。有误请回「投诉 {code}」或打热线 {hotline}。"
PAYMENT_CLAIMED_WORKER = "老板说已付您 {amount}（招工 {code}）。收到了回「已收到 {code}」；没收到回「没收到 {code}」。"
PAYMENT_CONFIRMED_EMPLOYER = "{name} 确认收到 {amount}（招工 {code}）。还欠 {left}。"
PAYMENT_REJECTED_EMPLOYER = "{name} 说没有收到 {amount}（招工 {code}）。请核实；有争议平台会介入。"
PAID_IN_FULL = "招工 {code} 的工钱已结清：{amount}。给对方打个分吧：回「评价 {code} 5」（1 到 5 分，可加一句话）。"
PAID_IN_FULL_EMPLOYER = "招工 {code} 工人 {name} 的工钱已结清。给工人打个分：回「评价 {code} {n} 5」（1 到 5 分）。"
NOTHING_OWED = "招工 {code} 现在没有欠您的工钱。"
NO_CLAIMED_PAYMENT = "老板还没有登记付款（招工 {code}）。"
OVERPAY = "登记的钱数比欠的多（还欠 {left}），请核对。"
NOT_COMPLETED_YET = "这个工人还没有确认完工，先回「完工 {code}」确认工作量。"
ARREARS_EMPLOYER = (
    "【欠薪提醒】招工 {code} 工人 {name} 的工钱 {left} 已超过付款期限（{due}）。"
    "请尽快付清并回「已付 {code} {n}」登记。拖欠工资将由运营方处理。"
)
ARREARS_WORKER = (
    "【欠薪提醒】招工 {code} 的工钱 {left} 已过期未付，我们已提醒老板。"
    "如果一直没付，回「投诉 {code}」或打热线 {hotline}，运营方会帮您追讨。"
)
ARREARS_ESCALATED_WORKER = "招工 {code} 的欠薪已转给运营方工作人员处理（案件 {case}），会有人联系您。热线 {hotline}"
RATED = "谢谢评价！"
ALREADY_RATED = "您已经评价过了。"
BAD_SCORE = "请打 1 到 5 分，例如：评价 {code} 5"
NOT_SETTLED_FOR_RATING = "工钱结清后才能评价。"
APPLICANT_GONE = "第 {n} 号工人{status}，不能这样操作。"
ASSIGNMENT_STATUS = {
    "applied": "已报名（等老板挑人）",
    "confirmed": "已录用",
    "withdrawn": "已退出",
    "declined": "未录用",
    "cancelled": "已取消",
    "completed": "已完工",
    "no_show": "没到岗",
}

# --- cases: disputes and complaints ------------------------------------------------------------
CASE_REASONS = {
    "unfinished": "活没干完",
    "unpaid": "没付钱或少付",
    "quality": "质量问题",
    "safety": "安全问题",
    "other": "其他",
    "fake_post": "虚假招工",
    "black_broker": "黑中介收费",
}
CASE_OPENED = "已立案（案件 {case}）：{reason}。已通知对方在 {hours} 小时内回应；谈不拢会转工作人员调解。热线 {hotline}"
COMPLAINT_OPENED = "举报已收到（案件 {case}）：{reason}。工作人员会尽快核查。热线 {hotline}"
CASE_TO_OTHER = (
    "【协商】对方就招工 {code} 提出：{reason}。{desc}\n"
    "现在约定的工钱是 {amount}。请回「方案 {case} 金额」说出您认为工人应得的总工钱，"
    "或直接回「同意方案 {case}」接受对方方案。{hours} 小时内谈不拢将转工作人员调解。"
)
CASE_OFFER_TO_OTHER = "【协商 {case}】对方提出：工人应得总工钱 {amount}。同意回「同意方案 {case}」，不同意回「方案 {case} 金额」还价。"
CASE_OFFER_SENT = "方案已发给对方：{amount}。"
CASE_NO_OFFER = "对方还没有提出方案。您可以回「方案 {case} 金额」提出。"
CASE_OWN_OFFER = "这是您自己提的方案，要等对方同意。"
CASE_RESOLVED = "【案件 {case} 已解决】{outcome}"
CASE_ESCALATED = "【案件 {case}】协商时间已到，已转工作人员调解。热线 {hotline}"
CASE_NOT_YOURS = "没有找到您的案件 {case}。"
CASE_CLOSED = "案件 {case} 已经结束了。"
CASE_NO_ASSIGNMENT = "您和招工 {code} 没有派工关系，不能就它协商。举报虚假招工请回「举报 {code}」。"
OUTCOME_AGREED = "双方同意：工人应得总工钱 {amount}，已记账。"
OUTCOME_MEDIATED = "工作人员调解结果：{note}" 
OUTCOME_AMOUNT = "工人应得总工钱 {amount}，已记账。"
EXPIRED_WORKER = "招工 {code} 已过期，没有成交。回「找活」看别的活。"
EXPIRED_EMPLOYER = "您的招工 {code} 过了开工时间也没人接，已过期。需要的话回「招工」重新发布。"

# --- digests, offers, reminders, training (issue 6) ---------------------------------------------
DIGEST_HEAD = "【今日好活】{name}，早上好！适合您的活（回「接 编号」报名）："
DIGEST_LINE = "{n}. {code} {trade} {wage} {when} {town}\n   {why}"
DIGEST_TAIL = "不想收推送回「退订」，想再收回「订阅」。"
PRIORITY_OFFER = (
    "【优先推荐】{name}，有个适合您的新活，您可以先报名（{minutes} 分钟内只推给您这样的优先对象）：\n{card}\n{why}"
)
GROUP_DIGEST_HEAD = "【{service}】今日在招（私聊我回「接 编号」报名，平台免费，不收任何费用）："
GROUP_DIGEST_TRADE = "▪{trade}：{items}"
GROUP_DIGEST_ITEM = "{code} {town}{wage}"
GROUP_DIGEST_TAIL = "热线 {hotline}。招工请私聊我回「招工」。"
STILL_HIRING = "您的招工 {code}（{trade}）发布有一段时间了，还在招吗？还招回「还招 {code}」，招满了回「取消招工 {code}」。{hours} 小时内不回复会自动下架。"
STILL_HIRING_OK = "好的，招工 {code} 继续招。"
EXPIRED_NO_ANSWER_WORKER = "招工 {code} 老板没有确认还招，已下架。回「找活」看别的活。"
START_REMINDER = "提醒：招工 {code}（{trade}）{when} 开工，地点 {place}。到了回「签到 {code}」。去不了请尽早回「退 {code}」。"
SIGN_REMINDER = "提醒：招工 {code} 的合同还没签。同意请回复：同意 {sign_code}"
UNSUBSCRIBED = "已退订每日推送。想再收回「订阅」。"
SUBSCRIBED = "已订阅，每天 {time} 给您推送合适的活。"
TRAINING_PUSH = "【{kind}】{title}\n时间：{when}\n地点：{place}{subsidy}\n想参加回「培训报名 {code}」。"
TRAINING_KINDS = {"training": "免费培训", "fair": "招聘会"}
TRAINING_SIGNED = "报名成功：{title}（{when}，{place}）。"
TRAINING_ALREADY = "您已经报过名了。"
TRAINING_FULL = "名额已满，下次早点报名。"
NO_SUCH_TRAINING = "没有编号为 {code} 的培训或招聘会。"

# 绑定 CODE: a phone login on the web joined to the person registered in the 公众号
LINK_OFFER = (
    "这个手机号在公众号里登记过。如果那是您本人，请在「{service}」公众号里发：绑定 {code}"
    "（10 分钟内有效），网页上就能看到您在公众号的资料和招工。"
    "如果您没在公众号登记过，说明有人用了您的手机号，请打热线 {hotline}。"
)
LINK_DONE = "绑定好了。在网页上刷新一下，就能看到您在公众号的资料和招工。"
LINK_BAD = "这个绑定码不对或已过期，请在网页上重新登录获取。"
LINK_NOT_YOURS = "这个绑定码对应的手机号和您登记的不一样，不能绑定。"
LINK_WEB_BUSY = "网页上那个账号已经登记过了，不能合并。有问题请打热线 {hotline}。"
LINK_TOO_MANY = "试错太多次了，请一小时后再试，或打热线 {hotline}。"
