"""Build and read the XML that WeChat servers send to / expect from a callback.

Shapes follow the 公众号 "接收普通消息 / 接收事件推送" and 企业微信 "接收消息"
documentation.  Strings go into CDATA; numbers are bare, as WeChat does.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

import defusedxml.ElementTree as SafeET

Field = tuple[str, "str | int | None"]


def cdata(value: str) -> str:
    """Wrap in CDATA, splitting any ``]]>`` so the text cannot break out."""
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def build_xml(fields: Iterable[Field], *, pretty: bool = False) -> str:
    """``<xml>`` with one child per field; None values are skipped."""
    sep = "\n" if pretty else ""
    parts = ["<xml>"]
    for tag, value in fields:
        if value is None:
            continue
        inner = str(value) if isinstance(value, int) else cdata(str(value))
        parts.append(f"<{tag}>{inner}</{tag}>")
    parts.append("</xml>")
    return sep.join(parts)


def parse_xml(text: str | bytes) -> dict[str, str]:
    """Flat ``{tag: text}`` of the root's children, via defusedxml (no DTDs)."""
    root = SafeET.fromstring(text, forbid_dtd=True)
    return {child.tag: (child.text or "") for child in root}


_msg_seq = [6_000_000_000_000_000_000]


def new_msg_id() -> int:
    """Unique, monotonically increasing 64-bit MsgId like WeChat's."""
    _msg_seq[0] += 1
    return _msg_seq[0]


def _now(create_time: int | None) -> int:
    return int(time.time()) if create_time is None else int(create_time)


def text_message(
    to_user: str,
    from_user: str,
    content: str,
    *,
    msg_id: int | None = None,
    create_time: int | None = None,
    agent_id: int | None = None,
) -> str:
    """A text message (公众号: to=gh_ id, from=openid; 企业微信: to=corpid, from=userid)."""
    return build_xml(
        [
            ("ToUserName", to_user),
            ("FromUserName", from_user),
            ("CreateTime", _now(create_time)),
            ("MsgType", "text"),
            ("Content", content),
            ("MsgId", new_msg_id() if msg_id is None else msg_id),
            ("AgentID", agent_id),
        ]
    )


def voice_message(
    to_user: str,
    from_user: str,
    *,
    recognition: str | None,
    media_id: str = "media_voice_0001",
    fmt: str = "amr",
    msg_id: int | None = None,
    create_time: int | None = None,
    agent_id: int | None = None,
) -> str:
    """A voice message; ``recognition`` is WeChat's speech-to-text (公众号 only, if enabled)."""
    return build_xml(
        [
            ("ToUserName", to_user),
            ("FromUserName", from_user),
            ("CreateTime", _now(create_time)),
            ("MsgType", "voice"),
            ("MediaId", media_id),
            ("Format", fmt),
            ("Recognition", recognition),
            ("MsgId", new_msg_id() if msg_id is None else msg_id),
            ("AgentID", agent_id),
        ]
    )


def event_message(
    to_user: str,
    from_user: str,
    event: str,
    *,
    event_key: str | None = None,
    create_time: int | None = None,
    agent_id: int | None = None,
    extra: Iterable[Field] = (),
) -> str:
    """An event push: subscribe / unsubscribe / SCAN / CLICK / VIEW / enter_agent / ..."""
    return build_xml(
        [
            ("ToUserName", to_user),
            ("FromUserName", from_user),
            ("CreateTime", _now(create_time)),
            ("MsgType", "event"),
            ("Event", event),
            ("EventKey", event_key),
            *extra,
            ("AgentID", agent_id),
        ]
    )


def oa_encrypted_envelope(to_user: str, encrypt: str) -> str:
    """公众号 safe-mode POST body."""
    return build_xml([("ToUserName", to_user), ("Encrypt", encrypt)])


def wecom_encrypted_envelope(corp_id: str, encrypt: str, agent_id: int | None) -> str:
    """企业微信 POST body."""
    return build_xml([("ToUserName", corp_id), ("Encrypt", encrypt), ("AgentID", agent_id)])


def reply_envelope(encrypt: str, signature: str, timestamp: str, nonce: str) -> str:
    """The encrypted passive-reply envelope a callback returns (for building test servers)."""
    return build_xml(
        [
            ("Encrypt", encrypt),
            ("MsgSignature", signature),
            ("TimeStamp", int(timestamp)),
            ("Nonce", nonce),
        ]
    )
