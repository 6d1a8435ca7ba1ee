"""Tables of the foundation: people, their channel identities and profiles, dialog state,
the inbound-message ledger (idempotent input), the outbox, and the web-chat transcript.

Money is integer fen (``*_fen``); times are UTC-aware (``storage.base.UTCDateTime``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, utcnow

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets BIGINT.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class User(Base):
    """A person. One person may be a worker, an employer, or both."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    display_name: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Identity(Base):
    """How a person is known on one channel (web persona id, 公众号 openid, wechaty contact id)."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WorkerProfile(Base):
    """A registered gig worker (零工). ``trades`` are taxonomy ids, ``towns`` gazetteer names."""

    __tablename__ = "worker_profiles"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(32))
    phone: Mapped[str] = mapped_column(String(20))
    trades: Mapped[list[str]] = mapped_column(JSON, default=list)
    towns: Mapped[list[str]] = mapped_column(JSON, default=list)
    availability: Mapped[str] = mapped_column(String(16), default="any")
    min_wage_fen: Mapped[int] = mapped_column(Integer, default=0)
    min_wage_unit: Mapped[str] = mapped_column(String(16), default="day")
    consent_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class EmployerProfile(Base):
    """A registered employer (用工主体): a person or a company."""

    __tablename__ = "employer_profiles"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(32))
    phone: Mapped[str] = mapped_column(String(20))
    company: Mapped[str] = mapped_column(String(64), default="")
    town: Mapped[str] = mapped_column(String(16), default="")
    consent_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class DialogStateRow(Base):
    """Where one conversation stands. ``data`` holds drafts and ids, never domain truth."""

    __tablename__ = "dialog_states"
    __table_args__ = (UniqueConstraint("channel", "chat_id", "user_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(128))
    user_id: Mapped[str] = mapped_column(String(128))
    dialog: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(96))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    version: Mapped[int] = mapped_column(Integer, default=1)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class InboundRecord(Base):
    """Every inbound message id once: a repeated delivery hits the unique key and does nothing."""

    __tablename__ = "inbound_messages"
    __table_args__ = (UniqueConstraint("channel", "message_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    message_id: Mapped[str] = mapped_column(String(128))
    chat_id: Mapped[str] = mapped_column(String(128))
    user_id: Mapped[str] = mapped_column(String(128))
    received_at: Mapped[datetime]
    processed_at: Mapped[datetime] = mapped_column(default=utcnow)
    outcome: Mapped[str] = mapped_column(String(16), default="ok")


class OutboxRow(Base):
    """One outgoing message. Written in the same transaction as the change that causes it.

    Status: ``queued`` → ``sending`` (claimed under a lease) → ``sent``; a failed attempt goes
    back to ``queued`` with a later ``next_attempt_at``; after too many, ``dead``.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("idempotency_key"),
        Index("ix_outbox_due", "status", "channel", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(128))
    text: Mapped[str] = mapped_column(Text)
    mention_user_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    idempotency_key: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(12), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_until: Mapped[datetime | None]
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]


class WebPersona(Base):
    """A persona of the built-in web chat (local use and the service-hall kiosk)."""

    __tablename__ = "web_personas"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebChatLine(Base):
    """The web chat's transcript. Bot lines carry their outbox id: delivering a row twice is
    impossible because ``outbox_id`` is unique (the web channel's exactly-once receipt)."""

    __tablename__ = "webchat_lines"
    __table_args__ = (UniqueConstraint("outbox_id"), Index("ix_webchat_lines_chat", "chat_id", "id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    chat_id: Mapped[str] = mapped_column(String(128))
    sender_id: Mapped[str] = mapped_column(String(40))
    sender_name: Mapped[str] = mapped_column(String(32))
    from_bot: Mapped[bool] = mapped_column(default=False)
    text: Mapped[str] = mapped_column(Text)
    outbox_id: Mapped[int | None] = mapped_column(BigId)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# --- the order-to-pay chain (issue 3) ---------------------------------------------------------
class Order(Base):
    """A job/task order (岗位任务订单). ``confirmed`` never exceeds ``headcount`` (CHECK), and
    is only changed by a conditional UPDATE (see ``market.orders``)."""

    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("code"),
        CheckConstraint("confirmed >= 0 AND confirmed <= headcount", name="confirmed_range"),
        CheckConstraint("headcount >= 1", name="headcount_positive"),
        CheckConstraint("wage_fen > 0", name="wage_positive"),
        Index("ix_orders_status_start", "status", "start_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(8))
    employer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    trade_id: Mapped[str] = mapped_column(String(32))
    headcount: Mapped[int] = mapped_column(Integer)
    confirmed: Mapped[int] = mapped_column(Integer, default=0)
    wage_fen: Mapped[int] = mapped_column(Integer)
    wage_unit: Mapped[str] = mapped_column(String(12))
    start_at: Mapped[datetime]
    duration_text: Mapped[str] = mapped_column(String(32), default="")
    town: Mapped[str] = mapped_column(String(16), default="")
    place: Mapped[str] = mapped_column(String(64), default="")
    requirements: Mapped[str] = mapped_column(String(200), default="")
    requirement_data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    perks: Mapped[list[str]] = mapped_column(JSON, default=list)
    mode: Mapped[str] = mapped_column(String(12), default="first_come")
    status: Mapped[str] = mapped_column(String(12), default="open")
    source: Mapped[str] = mapped_column(String(16), default="chat")
    raw_text: Mapped[str] = mapped_column(Text, default="")
    payment_due_hours: Mapped[int] = mapped_column(Integer, default=24)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    filled_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]


class Assignment(Base):
    """One worker on one order. One row per (order, worker): a repeated tap changes nothing."""

    __tablename__ = "assignments"
    __table_args__ = (UniqueConstraint("order_id", "worker_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(12))
    agreed_wage_fen: Mapped[int] = mapped_column(Integer)
    wage_unit: Mapped[str] = mapped_column(String(12))
    worker_price_ok_at: Mapped[datetime | None]
    employer_price_ok_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
