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
    true,
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
    birth_year: Mapped[int | None] = mapped_column(Integer)
    gender: Mapped[str | None] = mapped_column(String(8))
    certificates: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    priority_flags: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    """Set by operators (第七条): low_income, disabled, hard_to_employ."""
    digest_time: Mapped[str] = mapped_column(String(5), default="06:30", server_default="06:30")
    subscribed: Mapped[bool] = mapped_column(default=True, server_default=true())
    ignored_digests: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Digests in a row the worker did not react to; at the limit digests pause (订阅 resumes)."""
    last_active_at: Mapped[datetime | None]
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
        # The passive-reply claim looks up one person's queued rows on every message.
        Index("ix_outbox_chat", "channel", "chat_id", "status"),
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
    """The last failed attempt's error — or a delivery note: a row sent in a WeChat passive reply
    names the message it answered (``passive reply to …``), so that message's retries answer it
    again."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    passive_for: Mapped[str | None] = mapped_column(String(128))
    """The inbound message (its dedupe key) whose passive callback answer carried this row: a
    WeChat retry of that message answers the same rows again."""


class WebPersona(Base):
    """A persona of the built-in web chat (local use and the service-hall kiosk)."""

    __tablename__ = "web_personas"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    """The phone number this persona logged in with (verified by an SMS code)."""


class WebRoomMember(Base):
    """Who is in a web chat group room: only members get its lines and may post there."""

    __tablename__ = "web_room_members"

    room_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    persona_id: Mapped[str] = mapped_column(
        ForeignKey("web_personas.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)


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
    insurance: Mapped[str] = mapped_column(String(32), default="", server_default="")
    """Id of the accident-insurance option chosen when posting ("" for none)."""
    status: Mapped[str] = mapped_column(String(12), default="open")
    source: Mapped[str] = mapped_column(String(16), default="chat")
    raw_text: Mapped[str] = mapped_column(Text, default="")
    payment_due_hours: Mapped[int] = mapped_column(Integer, default=24)
    hiring_check_at: Mapped[datetime | None]
    """When the employer was asked "still hiring?" (还招吗); unanswered → expired."""
    hiring_confirmed_at: Mapped[datetime | None]
    """When the employer last said 还招: the order's age for the next check counts from here."""
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
    checked_in_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    quantity_milli: Mapped[int | None] = mapped_column(Integer)
    """Actual days / hours / pieces worked, times 1000 (1.5 days = 1500)."""
    amount_due_fen: Mapped[int | None] = mapped_column(Integer)
    due_at: Mapped[datetime | None]
    """When the wage must be paid; after it an unpaid wage raises the arrears alarm (欠薪预警)."""
    paid_at: Mapped[datetime | None]
    arrears_stage: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    start_reminded_at: Mapped[datetime | None]
    sign_reminded_at: Mapped[datetime | None]
    """0 none, 1 employer reminded and worker told, 2 escalated to the operator."""


class Contract(Base):
    """An e-contract version. ``text`` and ``sha256`` never change after creation; a change of
    terms is a new version (the old one becomes ``superseded``) signed again."""

    __tablename__ = "contracts"
    __table_args__ = (UniqueConstraint("assignment_id", "version"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12))
    template_version: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    sign_code: Mapped[str] = mapped_column(String(6), index=True)
    link_token: Mapped[str] = mapped_column(String(32), default="", server_default="")
    """Random secret in the PDF link (``secrets.token_urlsafe``): knowing the contract, its
    text or its hash is not enough to fetch it."""
    insurance_id: Mapped[str] = mapped_column(String(32), default="")
    insurer: Mapped[str] = mapped_column(String(64), default="")
    insurance_product: Mapped[str] = mapped_column(String(64), default="")
    premium_fen: Mapped[int] = mapped_column(Integer, default=0)
    premium_payer: Mapped[str] = mapped_column(String(12), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    signed_at: Mapped[datetime | None]


class ContractSignature(Base):
    """Who agreed to which exact text: the evidence of one party's signature."""

    __tablename__ = "contract_signatures"
    __table_args__ = (UniqueConstraint("contract_id", "role"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    role: Mapped[str] = mapped_column(String(12))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    channel: Mapped[str] = mapped_column(String(16))
    channel_user_id: Mapped[str] = mapped_column(String(128))
    message_id: Mapped[str] = mapped_column(String(128))
    sha256: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[datetime]


class LedgerTx(Base):
    """One balanced money event (its postings sum to zero). Append-only; at most one per key."""

    __tablename__ = "ledger_txs"
    __table_args__ = (UniqueConstraint("idempotency_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    idempotency_key: Mapped[str] = mapped_column(String(120))
    assignment_id: Mapped[int | None] = mapped_column(ForeignKey("assignments.id"), index=True)
    memo: Mapped[str] = mapped_column(String(200), default="")
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LedgerPosting(Base):
    """One account's amount (integer fen) in a ledger transaction."""

    __tablename__ = "ledger_postings"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tx_id: Mapped[int] = mapped_column(ForeignKey("ledger_txs.id"), index=True)
    account: Mapped[str] = mapped_column(String(64), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)


class Payment(Base):
    """A wage payment as recorded by the employer (waiting for the worker's 已收到) or by an
    operator for cash paid at the hall (posted at once). The platform records money; it does
    not hold it."""

    __tablename__ = "payments"
    __table_args__ = (UniqueConstraint("idempotency_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(Integer)
    method: Mapped[str] = mapped_column(String(16), default="")
    status: Mapped[str] = mapped_column(String(12))
    """claimed (employer says paid) → confirmed (worker 已收到 or operator) | rejected."""
    recorded_by: Mapped[str] = mapped_column(String(64))
    idempotency_key: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[datetime | None]


class Rating(Base):
    """A rating after settlement, once per assignment and side (score 1–5)."""

    __tablename__ = "ratings"
    __table_args__ = (
        UniqueConstraint("assignment_id", "rater_role"),
        CheckConstraint("score BETWEEN 1 AND 5", name="score_range"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id"), index=True)
    rater_role: Mapped[str] = mapped_column(String(12))
    rater_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    ratee_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Case(Base):
    """A dispute over an assignment (任务未完成协商), a complaint about a post or an employer
    (fake post, 黑中介), or an arrears escalation — all in one operator queue."""

    __tablename__ = "cases"
    __table_args__ = (Index("ix_cases_status", "status", "escalate_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))
    """dispute | complaint | arrears"""
    reason: Mapped[str] = mapped_column(String(16))
    assignment_id: Mapped[int | None] = mapped_column(ForeignKey("assignments.id"), index=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    opened_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    against: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    description: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[str] = mapped_column(String(12))
    """open (waiting for the other side) → negotiating → mediation → resolved"""
    offer_fen: Mapped[int | None] = mapped_column(Integer)
    """The amount currently proposed: what the worker should finally be owed."""
    offer_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    outcome: Mapped[str] = mapped_column(String(500), default="")
    final_fen: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    escalate_at: Mapped[datetime | None]
    escalated_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]


class CaseEvent(Base):
    """One step in a case, by whom: opened, an offer, accepted, escalated, resolved."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    actor: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    amount_fen: Mapped[int | None] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# --- matching, digests, priority help, training (issue 6) --------------------------------------
class PushRecord(Base):
    """Every push a person got (digest, offer, reminder, training): the weekly budget, the
    once-a-day digest and the statistics read it. The key makes a push happen once."""

    __tablename__ = "push_log"
    __table_args__ = (UniqueConstraint("key"), Index("ix_push_log_user_day", "user_id", "local_day"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(120))
    local_day: Mapped[str] = mapped_column(String(10))
    ref: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class JobRun(Base):
    """One row per scheduled firing: two processes on one database never both run a slot."""

    __tablename__ = "job_runs"
    __table_args__ = (UniqueConstraint("job_id", "slot"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    job_id: Mapped[str] = mapped_column(String(64))
    slot: Mapped[str] = mapped_column(String(32))
    runner: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)


class ChatGroup(Base):
    """A group chat the bot is in (web room, Wechaty room, WeCom customer group robot)."""

    __tablename__ = "chat_groups"
    __table_args__ = (UniqueConstraint("channel", "chat_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(64), default="")
    town: Mapped[str] = mapped_column(String(16), default="")
    digest: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PriorityOffer(Base):
    """A point-to-point offer of an order to a priority worker (第七条), counted per group."""

    __tablename__ = "priority_offers"
    __table_args__ = (UniqueConstraint("order_id", "worker_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    groups: Mapped[list[str]] = mapped_column(JSON, default=list)
    days_waited: Mapped[int] = mapped_column(Integer, default=0)
    offered_at: Mapped[datetime] = mapped_column(default=utcnow)


class Training(Base):
    """A course (第六条) or a job fair (招聘会) published by the operator."""

    __tablename__ = "trainings"
    __table_args__ = (UniqueConstraint("code"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(12))
    """training | fair"""
    title: Mapped[str] = mapped_column(String(100))
    trades: Mapped[list[str]] = mapped_column(JSON, default=list)
    towns: Mapped[list[str]] = mapped_column(JSON, default=list)
    priority_only: Mapped[bool] = mapped_column(default=False)
    starts_at: Mapped[datetime]
    place: Mapped[str] = mapped_column(String(100), default="")
    capacity: Mapped[int] = mapped_column(Integer, default=0)
    """0 = no limit."""
    subsidy: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    pushed_at: Mapped[datetime | None]


class TrainingSignup(Base):
    """A person's sign-up for a course or job fair (once each)."""

    __tablename__ = "training_signups"
    __table_args__ = (UniqueConstraint("training_id", "user_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    training_id: Mapped[int] = mapped_column(ForeignKey("trainings.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# --- trust at the doors (issue 11) ------------------------------------------------------------
class WebSession(Base):
    """A server-side login session of the web chat (``kind='person'``) or the console
    (``kind='staff'``). The cookie carries a random token; only its SHA-256 is stored here, so a
    copy of the database cannot be used to log in. Revoked by setting ``revoked_at``."""

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    """SHA-256 (hex) of the cookie's token."""
    kind: Mapped[str] = mapped_column(String(12))
    subject: Mapped[str] = mapped_column(String(64), index=True)
    """Web persona id (person) or staff account id (staff)."""
    csrf: Mapped[str] = mapped_column(String(64))
    kiosk: Mapped[bool] = mapped_column(default=False)
    idle_seconds: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    """Absolute end, whatever the activity."""
    revoked_at: Mapped[datetime | None]
    client: Mapped[str] = mapped_column(String(64), default="")
    """The client's address when the session was made (for the audit trail)."""


class LoginCode(Base):
    """A one-time SMS login code: stored hashed, valid a few minutes, a few tries."""

    __tablename__ = "login_codes"
    __table_args__ = (Index("ix_login_codes_phone", "phone", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    phone: Mapped[str] = mapped_column(String(20))
    code_hash: Mapped[str] = mapped_column(String(64))
    """HMAC-SHA256 of the code under a per-row salt."""
    salt: Mapped[str] = mapped_column(String(32))
    holder_hash: Mapped[str] = mapped_column(String(64))
    """SHA-256 of the random cookie of the browser that asked: only it may try the code."""
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    client: Mapped[str] = mapped_column(String(64), default="")


class LoginTicket(Base):
    """A kiosk's 公众号 QR login: the QR code carries ``login_<id>``; scanning it with WeChat tells
    the 公众号 callback who is at the kiosk (``openid``); the kiosk that holds the secret (a
    cookie, stored hashed) then logs that person in, once."""

    __tablename__ = "login_tickets"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    openid: Mapped[str | None] = mapped_column(String(64))
    approved_at: Mapped[datetime | None]
    used_at: Mapped[datetime | None]


class WebLink(Base):
    """A one-time code that joins a phone login on the web to the person registered with that
    phone in the 公众号: shown only to whoever proved the phone by SMS, typed in the 公众号 chat
    as 绑定 CODE by the person whose profile carries the same phone."""

    __tablename__ = "web_links"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), index=True)
    persona_id: Mapped[str] = mapped_column(String(40))
    phone: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class RateCounter(Base):
    """Fixed-window counters shared by every process (login tries, persona creation, …)."""

    __tablename__ = "rate_counters"

    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class CallbackNonce(Base):
    """A signed WeChat callback seen once: the same (timestamp, nonce, signature) again within
    the freshness window is a replay. Shared by all processes; rows past ``expires_at`` are
    deleted."""

    __tablename__ = "callback_nonces"

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    """SHA-256 (hex) of timestamp, nonce and signature."""
    expires_at: Mapped[datetime] = mapped_column(index=True)
