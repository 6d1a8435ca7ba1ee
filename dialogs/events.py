"""The boundary types: the only things that cross between channel adapters and the core."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


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
    """A user's message, already normalised by its adapter. Nothing platform-specific leaks past it."""

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
