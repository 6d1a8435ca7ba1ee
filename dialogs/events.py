"""The boundary types: the only things that cross between channel adapters and the core."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

# C0 controls other than tab and line feed, DEL, and UTF-16 surrogate code points (a Python str
# may hold them alone; no database driver can encode them, and PostgreSQL refuses NUL in text).
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff]")
_CARRIAGE = re.compile("\r\n?")


def clean_inbound_text(text: str) -> str:
    """``text`` safe to store anywhere: CR LF and lone CR become LF; NUL, the other C0 controls
    (tab and line feed stay), DEL and lone surrogates are removed. Everything else is kept as
    typed; the engine's own ``clean_text`` later drops invisible characters and folds spaces."""
    if _UNSAFE.search(text) is None:
        return text
    return _UNSAFE.sub("", _CARRIAGE.sub("\n", text))


def reply_key(channel: str, message_id: str, part: int | str) -> str:
    """The outbox idempotency key of one reply to an inbound message — ``part`` is its place
    among the replies, or a name (``welcome``). Every reply key is built here, so a repeated
    delivery can never queue a reply twice."""
    return f"reply:{channel}:{message_id}:{part}"


@dataclass(frozen=True, slots=True)
class ConversationKey:
    """Who a conversation belongs to: one user in one chat on one channel."""

    channel: str
    chat_id: str
    user_id: str


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """A user's message, already normalised by its adapter. Nothing platform-specific leaks past it.

    ``text`` and ``sender_name`` are passed through ``clean_inbound_text`` on construction.
    """

    channel: str
    """``web``, ``wechat_oa``, ``wecom``, ``wechaty`` ..."""
    chat_id: str
    """The room for a group message; the user's own chat for a private one."""
    user_id: str
    """The sender's id on this channel."""
    is_group: bool
    mentions_bot: bool
    """Resolved by the adapter (the @-mention itself is stripped from ``text``)."""
    text: str
    message_id: str
    """Unique per channel; a repeated delivery carries the same id and has no second effect."""
    received_at: datetime
    """Timezone-aware."""
    sender_name: str = ""

    def __post_init__(self) -> None:
        # The one place every channel passes: nothing unsafe is stored, whatever the adapter did.
        for name in ("text", "sender_name"):
            value = getattr(self, name)
            cleaned = clean_inbound_text(value)
            if cleaned is not value:
                object.__setattr__(self, name, cleaned)

    @property
    def key(self) -> ConversationKey:
        return ConversationKey(self.channel, self.chat_id, self.user_id)


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """A message to send, as stored in the outbox."""

    channel: str
    chat_id: str
    text: str
    mention_user_ids: tuple[str, ...] = ()
    idempotency_key: str = ""
    outbox_id: int | None = None
