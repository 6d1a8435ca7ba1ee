"""Building blocks of a flow: states that know their question, steps that return the next state.

A flow is data (``Flow``): its states, each with ``ask`` (the question, re-asked whenever an answer
is not understood) and ``handle`` (reads the answer, returns a ``Step``). Steps never send; they
return text and the engine writes it to the outbox in the same transaction.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from dialogs.events import InboundMessage
from matching.intents import CodeCommand

if TYPE_CHECKING:
    from dialogs.engine import Settings
    from storage.models import User

StepFn = Callable[["DialogContext"], Awaitable["Step"]]
AskFn = Callable[["DialogContext"], "str | Awaitable[str]"]


@dataclass
class Step:
    """What a step decided. ``state`` None ends the dialog; ``dialog`` switches to another flow."""

    replies: list[str] = field(default_factory=list)
    state: str | None = None
    dialog: str | None = None
    stay: bool = False
    ask: bool = True
    """Append the next state's question after ``replies`` (the usual case)."""

    @classmethod
    def to(cls, state: str, *replies: str) -> Step:
        return cls(list(replies), state=state)

    @classmethod
    def again(cls, *replies: str) -> Step:
        """Not understood: say why and ask the same question again."""
        return cls(list(replies), stay=True)

    @classmethod
    def end(cls, *replies: str) -> Step:
        return cls(list(replies))

    @classmethod
    def switch(cls, dialog: str, *replies: str) -> Step:
        return cls(list(replies), dialog=dialog)


@dataclass(frozen=True)
class State:
    """One state of a flow: its question (``ask``) and what reads the answer (``handle``)."""

    name: str
    ask: AskFn
    handle: StepFn


@dataclass(frozen=True)
class Flow:
    """A conversation flow. ``start`` runs when the flow is entered and returns the first step."""

    name: str
    title: str
    """What the user calls it, e.g. 零工登记 (used in "已取消「…」")."""
    start: StepFn
    states: Mapping[str, State]
    transient: bool = False
    """A menu-like flow: another command leaves it without announcing a cancellation."""

    def state(self, name: str) -> State:
        return self.states[name]


@dataclass
class DialogContext:
    """Everything a step may use. The session belongs to the engine's transaction: never commit."""

    msg: InboundMessage
    text: str
    """The message text with control characters removed and whitespace collapsed."""
    session: AsyncSession
    now: datetime
    settings: Settings
    data: dict[str, Any]
    command: CodeCommand | None = None
    """Set when the message was a code command such as ``接 3827``."""
    _user: User | None = None
    _user_loaded: bool = False
    _user_id: int | None = None
    _user_id_loaded: bool = False

    async def user(self) -> User | None:
        """The person behind this channel identity, or None if they never registered."""
        if not self._user_loaded:
            from storage.models import User

            user_id = await self.user_id()
            self._user = await self.session.get(User, user_id) if user_id is not None else None
            self._user_loaded = True
        return self._user

    @property
    def tz(self):  # type: ignore[no-untyped-def]
        return self.settings.tz

    @property
    def market(self):  # type: ignore[no-untyped-def]
        return self.settings.market

    async def user_id(self) -> int | None:
        """The person's id (looked up once; the ``User`` row is only loaded when asked for)."""
        if self._user_loaded:
            return self._user.id if self._user is not None else None
        if not self._user_id_loaded:
            from storage.repositories import UserRepository

            self._user_id = await UserRepository(self.session).user_id(
                self.msg.channel, self.msg.user_id
            )
            self._user_id_loaded = True
        return self._user_id

    async def ensure_user(self) -> User:
        from storage.repositories import UserRepository

        user = await self.user()
        if user is None:
            user = await UserRepository(self.session).get_or_create(
                self.msg.channel, self.msg.user_id, self.msg.sender_name, self.now
            )
            self._user = user
        return user
