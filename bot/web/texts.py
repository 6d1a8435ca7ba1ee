"""Every Chinese line the web endpoints show a person: input checks, login, kiosk, refusals.
Short, plain."""

from __future__ import annotations

BAD_REQUEST = "请求格式不对"
BAD_ENCODING = "请求格式不对：文字编码有误"
NOT_AN_OBJECT = "请求格式不对"
TOO_DEEP = "请求格式不对：层次太多"
BAD_CHARACTERS = "内容里有无法识别的字符"
TOO_LARGE = "内容太长了，请分几次发"
NEEDS_JSON = "请求类型不对"
FIELD_MISSING = "缺少必填的内容（{key}）"
FIELD_NOT_TEXT = "「{key}」应该是文字"
FIELD_TOO_LONG = "「{key}」太长了，最多 {max_len} 个字"

LOGIN_NEEDED = "请先登录"
PAGE_EXPIRED = "页面已过期，请刷新后再试"
TOO_MANY = "操作太频繁了，请过一会儿再试"
SLOW_DOWN = "发得太快了，请慢一点再发"

PHONE_BAD = "请填 11 位手机号"
CODE_SENT = "验证码已发到 {masked}，5 分钟内有效"
CODE_WAIT = "验证码刚发过，请 {seconds} 秒后再要"
CODE_BAD = "验证码不对，请再看一下短信"
CODE_GONE = "验证码已过期或错了太多次，请重新获取"
SMS_DOWN = "短信暂时发不出去，请稍后再试，或打热线 {hotline}"
SMS_REFUSED = "这个号码收不到验证码，请换个号码，或打热线 {hotline}"
SMS_OFF = "现在不能用短信登录，请在微信里打开，或打热线 {hotline}"

WECHAT_OFF = "现在不能用微信登录"
WECHAT_FAILED = "微信登录没有成功，请回到公众号菜单重新打开"

QR_DOWN = "扫码登录暂时不能用，请用手机号登录"
QR_GONE = "二维码已过期，请刷新"
QR_NOT_HERE = "扫码登录只能在零工驿站的自助机上用"

NAME_BAD = "名字请用 1 到 16 个字"
NAME_IMPERSONATES = "这个名字像是平台或工作人员，请换一个（比如：张师傅）"
ROLE_BAD = "请选择找活或招人"
NO_SUCH_PERSONA = "找不到这个身份，请重新选择"
NO_SUCH_ROOM = "没有这个群"
NO_SUCH_CHAT = "没有这个聊天"
BUSY = "系统忙，请稍后再发一次。"

NEW_PERSON_NAME = "尾号{last4}"
"""The name a person logged in by phone has before they register."""
WECHAT_PERSON_NAME = "微信用户"
"""… and one who came in by WeChat before registering."""
