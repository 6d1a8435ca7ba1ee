"""Every user-visible string of the web endpoints' input checks, in one place (short, plain Chinese)."""

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
