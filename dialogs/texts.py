"""Every user-visible string of the dialogs, in one place.

Short, plain Chinese; one question at a time; numbered choices. Templates use ``str.format``.
"""

from __future__ import annotations

# --- engine -------------------------------------------------------------------------------
SORRY = "抱歉，系统刚才出了点问题，您的消息没有处理成功。请稍后再发一次，或打热线 {hotline}。"
TOO_LONG = "消息太长了（超过 {limit} 字），我没有保存。请分几句短话发给我。"
EMPTY = "没看到文字。请打字回复，语音不方便的话可以到零工驿站找工作人员。"
NOT_UNDERSTOOD = "没看懂这句话。"
TIMED_OUT = "刚才的「{what}」太久没回复，已自动结束，填了的内容没有保存。需要时请重新开始。"
CANCELLED = "好的，已取消「{what}」，没有保存。"
NOTHING_TO_CANCEL = "现在没有进行中的操作。"
CANNOT_GO_BACK = "已经是第一步了。"
CONTINUE = "接着刚才的："
GROUP_HINT = "您好！登记、找活、招工请私聊我（点我的头像发消息），回「帮助」看怎么用。"
UNKNOWN = "没听懂您的意思。"

# --- help & menu ---------------------------------------------------------------------------
MENU = (
    "【{service}】请回数字：\n"
    "1 我要找活\n"
    "2 我要招人\n"
    "3 我接的活\n"
    "4 我发的招工\n"
    "5 我的资料\n"
    "6 帮助和热线"
)
MENU_CHOICE_AGAIN = "请回 1 到 6 的数字。"
HELP = (
    "【怎么用】直接打字就行，不用打全：\n"
    "· 回「菜单」看所有功能\n"
    "· 回「找活」看正在招的活，「接 编号」报名\n"
    "· 回「招工」发布招工，「我的招工」管理\n"
    "· 回「我的资料」查看或修改\n"
    "· 任何时候回「取消」退出，回「返回」回到上一步\n"
    "平台免费，不收任何押金和费用。遇到收费、欠薪请打热线 {hotline}。"
)

# --- worker registration ---------------------------------------------------------------------
WORKER_NAME_OF_FLOW = "零工登记"
WORKER_ALREADY = "您已经登记过找活了。"
CONSENT = (
    "登记找活，需要保存您的称呼、手机号、会的活、想去的地方，只用于给您介绍活和签合同，"
    "在群里不会显示您的完整电话。随时可以回「我的资料」修改或删除。\n"
    "回 1 同意并开始，回 2 不同意"
)
CONSENT_DECLINED = "好的，没有保存任何信息。需要时回「登记」。"
CONSENT_AGAIN = "请回 1（同意）或 2（不同意）。"
ASK_NAME_PHONE = "请告诉我您的称呼和手机号，例如：张师傅 13812345678"
ASK_PHONE_ONLY = "好的，{name}。您的手机号是多少？"
ASK_NAME_ONLY = "手机号记下了。怎么称呼您？例如：张师傅"
BAD_PHONE = "手机号好像不对，要 11 位数字，1 开头。"
BAD_NAME = "称呼请用 1 到 12 个字，例如：李姐、王师傅。"
NAME_IMPERSONATES = "称呼里不能有「{word}」这样的字，免得别人当成平台或工作人员。请换一个，例如：张师傅、李姐。"
ASK_TRADES = "您会做什么活？可以说几样，例如：泥水工、小工、保洁、搬运"
TRADES_NOT_FOUND = "没找到这种活。请换个说法，例如：木工、电工、采茶、服务员。"
ASK_TOWNS = "想在哪里干活？可以说几个乡镇，例如：夏茂、凤岗。哪里都行请回「全县」"
TOWNS_NOT_FOUND = "没找到这个地方。请说沙县区的乡镇或街道，例如：凤岗、虬江、高砂。哪里都行回「全县」"
ASK_AVAILABILITY = (
    "什么时候能干活？请回数字：\n"
    "1 随时都行\n"
    "2 只做工作日\n"
    "3 只做周末\n"
    "4 只做半天\n"
    "5 只做晚上"
)
AVAILABILITY_AGAIN = "请回 1 到 5 的数字。"
ASK_MIN_WAGE = "一天最少多少钱您才去？回数字，例如：180。不限回 0"
BAD_MIN_WAGE = "请回一个钱数，例如：180、两百，或按小时说：一小时25。不限回 0"
WORKER_DONE = (
    "登记好了！\n{summary}\n"
    "有合适的活会发给您。查看或修改回「我的资料」。热线 {hotline}"
)

# --- employer registration -------------------------------------------------------------------
EMPLOYER_NAME_OF_FLOW = "雇主登记"
EMPLOYER_ALREADY = "您已经登记过招人了。"
EMPLOYER_CONSENT = (
    "登记招人，需要保存您的称呼、手机号、单位和所在乡镇，用于发布招工和签合同。"
    "平台免费，严禁收取工人押金或任何费用。\n"
    "回 1 同意并开始，回 2 不同意"
)
ASK_COMPANY = "单位或店名叫什么？个人招工请回「个人」"
BAD_COMPANY = "单位名称请用 2 到 30 个字；个人招工回「个人」。"
COMPANY_IMPERSONATES = "单位名称里不能有「{word}」这样的字，免得被当成平台或政府部门。请换一个；个人招工回「个人」。"
ASK_EMPLOYER_TOWN = "您在哪个乡镇或街道？例如：凤岗、夏茂"
EMPLOYER_DONE = (
    "登记好了！\n{summary}\n"
    "查看或修改回「我的资料」。热线 {hotline}"
)

# --- profile ----------------------------------------------------------------------------------
PROFILE_NAME_OF_FLOW = "我的资料"
MENU_NAME_OF_FLOW = "菜单"
PROFILE_NONE = "您还没有登记。"
PROFILE_WORKER = (
    "【找活资料】\n称呼：{name}\n电话：{phone}\n会的活：{trades}\n地方：{towns}\n"
    "时间：{availability}\n最低工资：{min_wage}\n年龄性别证书：{extras}\n每天推送：{digest}"
)
PROFILE_EMPLOYER = "【招人资料】\n称呼：{name}\n电话：{phone}\n单位：{company}\n乡镇：{town}"
PROFILE_EDIT_MENU_WORKER = (
    "要改哪一项？请回数字：\n1 称呼和电话\n2 会的活\n3 地方\n4 时间\n5 最低工资\n"
    "6 删除我的找活资料\n7 年龄、性别、证书（选填）\n8 每天推送时间\n0 不改了"
)
PROFILE_EDIT_MENU_EMPLOYER = "要改哪一项？请回数字：\n1 称呼和电话\n2 单位\n3 乡镇\n6 删除我的招人资料\n0 不改了"
PROFILE_PICK_ROLE = "您既找活也招人。请回数字：\n1 看找活资料\n2 看招人资料"
PROFILE_CHOICE_AGAIN = "请回菜单里的数字。"
PROFILE_SAVED = "改好了。"
PROFILE_DONE = "好的。"
CONFIRM_DELETE = "确定删除吗？删除后要重新登记。回 1 确定删除，回 2 不删"
PROFILE_DELETED = "已删除。需要时可以重新登记。"

# --- shared words -----------------------------------------------------------------------------
AVAILABILITY_LABELS = {
    "any": "随时都行",
    "weekdays": "只做工作日",
    "weekends": "只做周末",
    "half_day": "只做半天",
    "evenings": "只做晚上",
}
WAGE_UNIT_LABELS = {"day": "天", "half_day": "半天", "hour": "小时", "month": "月"}
WHOLE_COUNTY = "全县"
NO_LIMIT = "不限"
PERSONAL = "个人"

# --- jobs (worker side) -----------------------------------------------------------------------
FIND_JOBS_NAME = "找活"
NO_OPEN_JOBS = "现在没有正在招的活。有新活会通知您，也可以明天早上再来看看。"
OPEN_JOBS_HEAD = "正在招的活（回「接 编号」就能报名）："
MY_JOBS_NONE = "您还没有接过活。回「找活」看看。"
MY_JOBS_HEAD = "您接的活："
MY_JOB_LINE = "{code} {trade} {when} {status}"
TAKE_NEED_REGISTER = "接活前要先登记，一分钟就好。"

# --- posting and managing orders (employer side) ----------------------------------------------
POST_JOB_NAME = "发布招工"
POST_NEED_REGISTER = "发招工前要先登记招人信息。登记好后回「招工」发布。"
ASK_DESCRIBE = (
    "请把招工信息发给我，像平时在群里发的一样，例如：\n"
    "招小工2名 明天早上7点 夏茂镇 日结200 包午饭"
)
ASK_TRADE = "招什么工？例如：小工、泥水工、保洁、采茶"
ASK_HEADCOUNT = "要几个人？回数字，例如：3"
BAD_HEADCOUNT = "请回 1 到 200 之间的人数。"
ASK_WAGE = "工资多少？例如：日结200、一小时25、一斤1块2、包干3000"
BAD_WAGE = "没看懂工资。请写钱数和怎么算，例如：一天200。"
ASK_START = "什么时候开工？例如：明天早上7点、11月28日8点"
BAD_START = "没看懂时间，或者时间已经过了。请说：明天7点、后天早上8点。"
ASK_TOWN = "在哪个乡镇干活？可以带上具体地点，例如：夏茂镇 东街自建房"
ASK_MODE = "怎么定人？请回数字：\n1 先到先得，谁先接谁去（即时快招）\n2 我自己挑人"
MODE_AGAIN = "请回 1 或 2。"
CONFIRM_POST = "{card}\n\n请确认：\n1 发布\n2 重新填\n3 不发了"
CONFIRM_AGAIN = "请回 1、2 或 3。"
POSTED = "发布好了！招工编号 {code}。\n工人回「接 {code}」就能报名，有人接会马上通知您。\n查看回「我的招工」。"
POST_HELD = (
    "这条招工需要工作人员审核后才能发布（{reasons}）。审核通过会通知您。"
    "平台严禁收取押金和任何费用。有疑问请打热线 {hotline}。"
)
POST_DISCARDED = "好的，没有发布。"
MY_ORDERS_NONE = "您还没有发过招工。回「招工」发布。"
MY_ORDERS_HEAD = "您发的招工："
MY_ORDER_LINE = "{code} {trade} {confirmed}/{headcount}人 {when} {status}"
MY_ORDERS_TAIL = "回「看报名 编号」看谁报名，「取消招工 编号」取消。"
APPLICANTS_NONE = "招工 {code} 还没有人报名。"
APPLICANTS_HEAD = "招工 {code} 的报名（回「选 {code} 序号」录用，「不要 {code} 序号」拒绝）："
APPLICANT_LINE = "{n} {name} {phone} {status}"
PICK_WHICH = "请说选第几个，例如：选 {code} 1"
PICKED = "已录用 {name}，会通知他。现在 {confirmed}/{headcount} 人。"
DECLINED = "已通知 {name} 没有选上。"
ORDER_CANCELLED = "招工 {code} 已取消，已通知 {told} 位工人。"
HEADCOUNT_CHANGED = "招工 {code} 人数改为 {headcount} 人，已通知接单的工人。"
ASK_NEW_HEADCOUNT = "改成几个人？例如：改人数 {code} 5"
START_CHANGED = "招工 {code} 开工时间改为 {when}，已通知接单的工人。"
ASK_NEW_START = "改到什么时候？例如：改时间 {code} 明天8点"
WITHDRAWN = "已退出招工 {code}。下次想去再回「接 {code}」。"
GENDER_LABELS = {"male": "限男", "female": "限女"}

# --- the chain: price, signing, attendance, completion, payment, rating --------------------------
ASK_QUANTITY = "第{n}号 {name}（{checked}）干了多少{unit}？回数字，例如 1 或 1.5；没来回 0"
CHECKED_YES = "已签到"
CHECKED_NO = "没签到"
BAD_QUANTITY = "请回一个数，例如 1、1.5、半天；没来回 0。"
COMPLETE_LINE = "第{n}号 {name}：{quantity}，{amount}"
COMPLETE_NO_SHOW = "第{n}号 {name}：没到岗"
COMPLETE_DONE = "已确认完工：\n{lines}\n付钱后回「已付 {code}」登记，工人确认收到就结清了。"
COMPLETE_NAME = "确认完工"
PAID_RECORDED = "已登记付款 {amount}，等工人回「已收到」确认。"
RECEIVED_DONE = "已确认收到 {amount}，谢谢！"
REJECTED_DONE = "已告诉老板您没收到 {amount}。如果一直不付，回「投诉 {code}」或打热线 {hotline}。"
NEED_AMOUNT = "请写钱数，例如：议价 {code} 400"

# --- disputes and complaints -------------------------------------------------------------------
DISPUTE_NAME = "投诉协商"
REPORT_NAME = "举报"
ASK_DISPUTE_REASON = (
    "遇到什么问题？请回数字：\n1 活没干完\n2 没付钱或少付\n3 质量问题\n4 安全问题\n5 其他\n6 虚假招工或收费（举报）"
)
ASK_REPORT_REASON = "举报什么？请回数字：\n1 虚假招工\n2 收押金、培训费等（黑中介）\n3 其他"
ASK_DISPUTE_WHO = "是第几号工人？回数字（回「看报名 {code}」可以看编号）"
ASK_DISPUTE_DESC = "简单说说情况（一句话就行）："
REASON_AGAIN = "请回菜单里的数字。"
CASE_DONE_ANSWER = "收到。"
ASK_INSURANCE = "给工人买人身意外险吗？出了意外有保障，平台建议买。请回数字："
INSURANCE_AGAIN = "请回菜单里的数字。"
SUBSCRIPTION_NEEDS_WORKER = "推送是给登记找活的工人的。回「登记」先登记。"
MATCHES_HEAD = "适合您的活（回「接 编号」报名）："
NO_MATCHES = "现在没有特别适合您的活。有新活会推给您，也可以回「我的资料」放宽地方或工钱。"
PRIORITY_MARK = "★优先"
ASK_EXTRAS = "请说年龄、性别和有的证书（选填，用来匹配有要求的活），例如：男 52岁 电工证。要清空回「清空」"
BAD_EXTRAS = "没看懂。例如：女 48岁 健康证；要清空回「清空」。"
EXTRAS_NONE = "未填"
ASK_DIGEST_TIME = "每天几点给您推送合适的活？例如：6点半、7点。不要推送回「退订」"
BAD_DIGEST_TIME = "请说一个时间，例如：6点半、早上7点。"
DIGEST_OFF = "已退订"
GENDER_WORDS = {"male": "男", "female": "女"}
