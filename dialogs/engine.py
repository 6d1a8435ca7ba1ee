"""The dialog engine: one inbound message, one transaction.

For each message: take the conversation's lock, then (inside one database transaction) record the
message id — a repeated delivery stops here — load the conversation's state, run global commands
or the current state's step, save the new state, and write every reply to the outbox. Dialog state,
domain changes and replies commit together or not at all (on SQLite, messages that queue up share
one commit, each in its own savepoint: ``storage.sqlite.group_commit``).

Errors: a ``UserFacingError`` (a known business refusal) becomes its own message; anything else
is logged with the conversation key and the user gets a short apology, never a traceback. Either
way the step's partial changes are rolled back to a savepoint and the message still counts as
handled, so a platform retry does not run it again.
"""

from __future__ import annotations

import asyncio
import copy
import functools
import inspect
import logging
import re
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from dialogs import texts
from dialogs.base import DialogContext, Flow, Step
from dialogs.events import ConversationKey, InboundMessage, OutboundMessage, reply_key
from market.digests import remember_group, touch
from market.errors import UserFacingError
from market.notify import discard_notifications, flush_notifications
from market.settings import MarketSettings
from matching.intents import match_code_command, match_intent
from storage.db import Database, savepoint
from storage.repositories import DialogStateRepository, InboundRepository, OutboxRepository
from storage.repositories.dialog_state import DialogState

log = logging.getLogger("dialogs.engine")

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")
_SPACES = re.compile(r"\s+")
_BACK_STACK = "_back"


@dataclass(frozen=True)
class Settings:
    """What dialogs need from the configuration (passed explicitly, never global)."""

    service_name: str = "沙县区零工市场"
    bot_name: str = "零工小助手"
    hotline: str = "0598-5822345"
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    expire_after: timedelta = timedelta(minutes=30)
    max_text_chars: int = 2000
    market: MarketSettings = field(default_factory=MarketSettings)


@dataclass
class HandleResult:
    """What handling one message did: a duplicate, the replies queued, and its outcome."""

    duplicate: bool = False
    replies: list[OutboundMessage] = field(default_factory=list)
    outcome: str = "ok"


OnNew = Callable[[AsyncSession], Awaitable[None]]


@dataclass
class _Turn:
    """One private message being dispatched: its context, the conversation's stored row and flow
    (None outside a conversation), the recognised intent and the replies so far."""

    ctx: DialogContext
    states: DialogStateRepository
    row: DialogState | None
    flow: Flow | None
    intent: str | None
    out: list[str]


Fallback = Callable[[_Turn], Awaitable[list[str] | None]]
"""A global command's handler; None declines (the current state answers the message instead)."""


class KeyedLocks:
    """One asyncio.Lock per key, dropped when nobody holds or waits for it.

    asyncio.Lock wakes waiters in arrival order, so one user's messages run in the order received
    (the regression aiogram fixed in its issue 1317: read state only after taking the lock).
    """

    def __init__(self) -> None:
        self._locks: dict[Any, asyncio.Lock] = {}
        self._users: Counter[Any] = Counter()

    @asynccontextmanager
    async def hold(self, key: Any) -> AsyncIterator[None]:
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] += 1
        try:
            async with lock:
                yield
        finally:
            self._users[key] -= 1
            if self._users[key] == 0:
                del self._users[key]
                del self._locks[key]

    def __len__(self) -> int:
        return len(self._locks)


def clean_text(text: str) -> str:
    """Remove control and invisible characters, collapse whitespace. The user's wording stays."""
    return _SPACES.sub(" ", _CONTROL.sub("", text or "")).strip()


class DialogEngine:
    """Runs each inbound message through its conversation's flow in one transaction (see module)."""

    def __init__(
        self,
        db: Database,
        flows: Mapping[str, Flow],
        settings: Settings,
        *,
        entry: Mapping[str, str],
        clock: Callable[[], datetime],
        on_commit: Callable[[], None] | None = None,
    ) -> None:
        """``entry`` maps an intent (see ``matching.intents``) to the flow it starts."""
        self.db = db
        self.flows = dict(flows)
        self.entry = dict(entry)
        self.settings = settings
        self.clock = clock
        self.on_commit = on_commit
        self.locks = KeyedLocks()
        self.fallbacks = self._fallbacks()

    # -- public ----------------------------------------------------------------------------
    async def handle(
        self, msg: InboundMessage, *, on_new: OnNew | None = None, guard: OnNew | None = None
    ) -> HandleResult:
        """Process one inbound message exactly once. ``on_new`` runs in the same transaction
        when the message is new (adapters use it to keep their own transcript). ``guard`` runs
        first in that transaction, before the message id is recorded, new message or repeat: it
        may raise to refuse the delivery, and then nothing of it is written (the WeChat
        callbacks spend the request's signature there)."""
        key = msg.key
        async with self.locks.hold(key), self.db.transaction(lock=("conv", *self._key_parts(key))) as session:
            if guard is not None:
                await guard(session)
            now = self.clock()
            record_id = await InboundRepository(session).record_once(
                channel=msg.channel,
                message_id=msg.message_id,
                chat_id=msg.chat_id,
                user_id=msg.user_id,
                received_at=msg.received_at,
            )
            if record_id is None:
                log.info("duplicate message %s/%s ignored", msg.channel, msg.message_id)
                return HandleResult(duplicate=True)
            if on_new is not None:
                await on_new(session)
            result = await self._run_guarded(session, msg, now)
            if result.outcome != "ok":
                await InboundRepository(session).set_outcome(record_id, result.outcome)
            outbox = OutboxRepository(session)
            stored = []
            for i, reply in enumerate(result.replies):
                ikey = reply_key(msg.channel, msg.message_id, i)
                row_id = await outbox.enqueue(
                    channel=reply.channel,
                    chat_id=reply.chat_id,
                    text=reply.text,
                    mention_user_ids=reply.mention_user_ids,
                    idempotency_key=ikey,
                    now=now,
                )
                stored.append(
                    OutboundMessage(
                        reply.channel, reply.chat_id, reply.text, reply.mention_user_ids, ikey, row_id
                    )
                )
            result.replies = stored
            # Notifications the step triggered go out after its replies.
            await flush_notifications(session)
        if self.on_commit is not None:
            self.on_commit()
        return result

    async def expire_conversations(self, *, limit: int = 500) -> int:
        """Politely end conversations idle past their expiry; returns how many were ended."""
        now = self.clock()
        async with self.db.reader() as session:
            due = [
                (r.id, r.version, ConversationKey(r.channel, r.chat_id, r.user_id), r.dialog)
                for r in await DialogStateRepository(session).expired(now, limit)
            ]
        ended = 0
        for row_id, version, key, dialog in due:
            async with self.locks.hold(key), self.db.transaction(
                lock=("conv", *self._key_parts(key))
            ) as session:
                if not await DialogStateRepository(session).delete_if_version(row_id, version):
                    continue  # the user answered meanwhile
                await OutboxRepository(session).enqueue(
                    channel=key.channel,
                    chat_id=key.chat_id,
                    text=texts.TIMED_OUT.format(what=self._title(dialog)),
                    idempotency_key=f"timeout:{row_id}:{version}",
                    now=now,
                )
                ended += 1
        if ended and self.on_commit is not None:
            self.on_commit()
        return ended

    # -- internals --------------------------------------------------------------------------
    @staticmethod
    def _key_parts(key: ConversationKey) -> tuple[str, str, str]:
        return (key.channel, key.chat_id, key.user_id)

    def _title(self, dialog: str) -> str:
        flow = self.flows.get(dialog)
        return flow.title if flow is not None else dialog

    def _reply(self, msg: InboundMessage, text: str) -> OutboundMessage:
        mentions = (msg.user_id,) if msg.is_group else ()
        return OutboundMessage(msg.channel, msg.chat_id, text, mentions)

    async def _run_guarded(self, session: AsyncSession, msg: InboundMessage, now: datetime) -> HandleResult:
        hotline = self.settings.hotline
        try:
            async with savepoint(session):
                texts_out = await self._dispatch(session, msg, now)
            return HandleResult(replies=[self._reply(msg, t) for t in texts_out if t])
        except UserFacingError as exc:
            discard_notifications(session)
            log.info("refused %s: %s", msg.key, exc)
            text = str(exc).replace("{hotline}", hotline)
            return HandleResult(replies=[self._reply(msg, text)], outcome="refused")
        except Exception:
            discard_notifications(session)
            log.exception("dialog step failed for %s (message %s)", msg.key, msg.message_id)
            return HandleResult(
                replies=[self._reply(msg, texts.SORRY.format(hotline=hotline))], outcome="error"
            )

    async def _dispatch(self, session: AsyncSession, msg: InboundMessage, now: datetime) -> list[str]:
        if len(msg.text) > self.settings.max_text_chars:
            return [texts.TOO_LONG.format(limit=self.settings.max_text_chars)]
        text = clean_text(msg.text)
        if msg.is_group:
            return await self._group_post(session, msg, text, now)
        turn = await self._turn(session, msg, text, now)
        fallback = self.fallbacks.get(turn.intent or "")
        if fallback is not None:
            replies = await fallback(turn)
            if replies is not None:
                return replies
        if turn.row is None or turn.flow is None:
            return await self._no_conversation(turn)
        return await self._answer(turn, turn.row, turn.flow)

    async def _group_post(self, session: AsyncSession, msg: InboundMessage, text: str, now: datetime) -> list[str]:
        """Group chatter is not for dialogs; a job post gets its card (market.group_posts), a
        direct @-mention a pointer to private chat. Groups are remembered for the digest."""
        from market.group_posts import handle_group_post

        await remember_group(session, msg.channel, msg.chat_id, "", now)
        card = await handle_group_post(
            session, channel=msg.channel, chat_id=msg.chat_id, user_id=msg.user_id,
            sender_name=msg.sender_name, text=text, now=now, tz=self.settings.tz,
        )
        if card is not None:
            return [card]
        return [texts.GROUP_HINT] if msg.mentions_bot else []

    async def _turn(self, session: AsyncSession, msg: InboundMessage, text: str, now: datetime) -> _Turn:
        """Load the conversation (an expired one, or one of a flow no longer known, ends politely),
        build the step's context and recognise the command."""
        states = DialogStateRepository(session)
        row = await states.get(msg.channel, msg.chat_id, msg.user_id)
        out: list[str] = []
        if row is not None and (row.expires_at <= now or row.dialog not in self.flows):
            await states.clear(row)
            out.append(texts.TIMED_OUT.format(what=self._title(row.dialog)))
            row = None
        # A deep copy: steps mutate nested lists, and the stored row must only change on save.
        data: dict[str, Any] = copy.deepcopy(row.data) if row is not None else {}
        ctx = DialogContext(msg=msg, text=text, session=session, now=now, settings=self.settings, data=data)
        user_id = await ctx.user_id()  # looked up once; steps reuse it
        if user_id is not None:
            await touch(session, user_id, now)  # active: digests count as read
        command = match_code_command(text)
        if command is not None and command.intent in self.entry:
            intent: str | None = command.intent
            ctx.command = command
        else:
            match = match_intent(text)
            intent = match.intent if match else None
        flow = self.flows[row.dialog] if row is not None else None
        return _Turn(ctx=ctx, states=states, row=row, flow=flow, intent=intent, out=out)

    # -- fallbacks: the global commands, the same at every state ---------------------------
    def _fallbacks(self) -> dict[str, Fallback]:
        """intent → handler, consulted before the current state (as python-telegram-bot's
        ConversationHandler ``fallbacks``). A handler returning None declines: the state answers."""
        table: dict[str, Fallback] = {
            intent: functools.partial(self._enter, target) for intent, target in self.entry.items()
        }
        table.update(cancel=self._cancel, help=self._help, back=self._back, menu=self._menu)
        return table

    async def _cancel(self, t: _Turn) -> list[str]:
        if t.row is None:
            return [*t.out, texts.NOTHING_TO_CANCEL]
        await t.states.clear(t.row)
        return [*t.out, texts.CANCELLED.format(what=self._title(t.row.dialog))]

    async def _help(self, t: _Turn) -> list[str]:
        help_text = texts.HELP.format(hotline=self.settings.hotline)
        if t.row is None or t.flow is None:
            return [*t.out, help_text]
        return [*t.out, help_text, texts.CONTINUE + await self._ask(t.flow, t.row.state, t.ctx)]

    async def _back(self, t: _Turn) -> list[str]:
        if t.row is None or t.flow is None:
            return [*t.out, texts.CANNOT_GO_BACK]
        stack = list(t.ctx.data.get(_BACK_STACK, []))
        if not stack:
            return [*t.out, texts.CANNOT_GO_BACK, await self._ask(t.flow, t.row.state, t.ctx)]
        previous = stack.pop()
        t.ctx.data[_BACK_STACK] = stack
        await self._save(t.states, t.row, t.ctx.msg, t.flow.name, previous, t.ctx.data, t.ctx.now)
        return [*t.out, await self._ask(t.flow, previous, t.ctx)]

    async def _menu(self, t: _Turn) -> list[str]:
        """The menu, from anywhere (inside the menu too: it starts afresh)."""
        return await self._start(t, self.entry["menu"])

    async def _enter(self, target: str, t: _Turn) -> list[str] | None:
        """A command that starts a flow leaves the current one; said inside its own flow, it is an
        answer to the current question."""
        if t.flow is not None and t.flow.name == target:
            return None
        return await self._start(t, target)

    # -- no global command ------------------------------------------------------------------
    async def _no_conversation(self, t: _Turn) -> list[str]:
        """Outside a conversation, text that starts nothing shows the menu."""
        if t.ctx.text and t.intent is None and not t.out:
            t.out.append(texts.UNKNOWN)
        return await self._start(t, self.entry["menu"])

    async def _answer(self, t: _Turn, row: DialogState, flow: Flow) -> list[str]:
        """The current state's step reads the answer."""
        if not t.ctx.text:
            return [*t.out, texts.EMPTY, await self._ask(flow, row.state, t.ctx)]
        step = await flow.state(row.state).handle(t.ctx)
        return t.out + await self._apply(step, t.states, row, t.ctx.msg, flow, row.state, t.ctx)

    async def _start(self, t: _Turn, target: str) -> list[str]:
        """Leave the current flow, if any (announced unless it is menu-like), and start ``target``."""
        if t.row is not None and t.flow is not None:
            await t.states.clear(t.row)
            if not t.flow.transient:
                t.out.append(texts.CANCELLED.format(what=self._title(t.row.dialog)))
            t.row = t.flow = None
        flow = self.flows[target]
        t.ctx.data = {}
        step = await flow.start(t.ctx)
        return t.out + await self._apply(step, t.states, None, t.ctx.msg, flow, None, t.ctx)

    async def _apply(
        self,
        step: Step,
        states: DialogStateRepository,
        row: DialogState | None,
        msg: InboundMessage,
        flow: Flow,
        current: str | None,
        ctx: DialogContext,
    ) -> list[str]:
        out = list(step.replies)
        if step.dialog is not None:
            if row is not None:
                await states.clear(row)
            nxt = self.flows[step.dialog]
            ctx.data = {}
            inner = await nxt.start(ctx)
            return out + await self._apply(inner, states, None, msg, nxt, None, ctx)
        if step.stay:
            if current is None:
                raise RuntimeError(f"{flow.name}: Step.again() from start")
            await self._save(states, row, msg, flow.name, current, ctx.data, ctx.now)
            if step.ask:
                out.append(await self._ask(flow, current, ctx))
            return out
        if step.state is None:
            await states.clear(row)
            return out
        if current is not None and step.state != current:
            ctx.data[_BACK_STACK] = [*ctx.data.get(_BACK_STACK, []), current]
        await self._save(states, row, msg, flow.name, step.state, ctx.data, ctx.now)
        if step.ask:
            out.append(await self._ask(flow, step.state, ctx))
        return out

    async def _save(
        self,
        states: DialogStateRepository,
        row: DialogState | None,
        msg: InboundMessage,
        dialog: str,
        state: str,
        data: dict[str, Any],
        now: datetime,
    ) -> None:
        await states.save(
            row,
            channel=msg.channel,
            chat_id=msg.chat_id,
            user_id=msg.user_id,
            dialog=dialog,
            state=state,
            data=data,
            expires_at=now + self.settings.expire_after,
            now=now,
        )

    @staticmethod
    async def _ask(flow: Flow, state: str, ctx: DialogContext) -> str:
        result = flow.state(state).ask(ctx)
        if inspect.isawaitable(result):
            result = await result
        return str(result)
