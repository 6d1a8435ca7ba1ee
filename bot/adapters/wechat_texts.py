"""The few user-visible lines the WeChat channel adapters say on their own (everything else
comes from the dialogs). Short, plain Chinese; ``str.format`` templates."""

from __future__ import annotations

WELCOME = "欢迎关注{service}！这里找活、招人都免费，不收任何押金和费用。"
VOICE_NOT_RECOGNISED = (
    "语音我没听清。麻烦您打字发给我；不方便打字的话，可以到零工驿站找工作人员帮忙，"
    "或者打热线 {hotline}。"
)
UNSUPPORTED = (
    "我现在只看得懂文字。请打字发给我，例如「找活」「招工」「登记」；"
    "也可以到零工驿站找工作人员，或者打热线 {hotline}。"
)
KIOSK_LOGIN_OK = "您已在零工驿站的自助机上登录，请回到屏幕前继续。用完请点「结束使用」。"
KIOSK_LOGIN_EXPIRED = "这个二维码已经过期了，请在自助机上刷新后重新扫码。"
