"""Wechaty groups: personal-WeChat group and private messages into the dialog engine, replies out
through the outbox at a human pace. **Off by default** — automating a personal account breaks
WeChat's terms and gets accounts banned (reference channels §1.7, §3); run it only as a labelled
pilot, behind a gateway you control.

* ``WechatyBridge`` keeps one ``WechatyClient`` (``bot.adapters.wechaty_grpc``) connected to the
  puppet-service gateway: connect, wait for the login (no login within ``login_timeout_seconds``
  → ``WechatyLoginTimeout``, which ``linggong serve`` / ``linggong wechaty check`` turn into a
  clear message and a non-zero exit), then feed every message to the engine as an
  ``InboundMessage`` (channel ``wechaty``; a room's id is the chat, a contact's id the private
  chat). A broken stream or a logout is logged as an operator alert and reconnected with backoff;
  messages replayed after a reconnect are dropped by the engine's message-id dedupe, and
  messages older than ``max_message_age_seconds`` are not answered at all.
* In a room every message goes to the engine, which runs the group-post pipeline
  (``market.group_posts``): a real job post gets one card, chatter nothing, held posts nothing.
* ``WechatyTransport`` sends outbox rows: rows with mention ids go to a room with ``@name``
  prefixes, others as plain texts. Its ``Pacer`` is the only send queue of the account: a random
  3–8 s gap between messages, 15–35 s when switching chats, ≤ 30 an hour (all configurable).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.adapters.wechaty_grpc import (
    WechatyAuthError,
    WechatyClient,
    WechatyConnectionError,
    WechatyError,
    WechatyLoggedOut,
    WechatyMessage,
    serve,
)
from bot.config import WechatyConfig
from bot.outbox import DeliveryDeferred, DeliveryError
from bot.ratelimit import Admission, Pacer
from dialogs.engine import DialogEngine
from dialogs.events import InboundMessage
from storage.models import OutboxRow

log = logging.getLogger("bot.adapter.wechaty")

CHANNEL = "wechaty"
NOT_READY_RETRY = 15.0


class WechatyBridge:
    """Feeds the Wechaty gateway's messages to the engine and reconnects it when it breaks."""

    def __init__(
        self,
        cfg: WechatyConfig,
        engine: DialogEngine,
        *,
        clock: Callable[[], datetime],
        client_factory: Callable[[], WechatyClient] = WechatyClient,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.cfg = cfg
        self.engine = engine
        self.clock = clock
        self.client_factory = client_factory
        self.wall_clock = wall_clock
        self.client: WechatyClient | None = None
        self.handled = 0
        self.skipped_old = 0

    @property
    def ready(self) -> bool:
        return self.client is not None and self.client.logged_in

    async def start(self) -> str:
        """Connect and wait for the login; the bot's contact id. Raises ``WechatyError``s."""
        await self.close()
        client = self.client_factory()
        try:
            await client.connect(
                self.cfg.endpoint, self.cfg.token, timeout=self.cfg.connect_timeout_seconds
            )
            self_id = await client.wait_login(timeout=self.cfg.login_timeout_seconds)
        except BaseException:
            await client.close()
            raise
        self.client = client
        log.info("wechaty: connected to %s, logged in as %s", self.cfg.endpoint, self_id)
        return self_id

    async def run(self, stop: asyncio.Event) -> None:
        """Listen until ``stop``; reconnect after failures (operator alert each time)."""
        delay = 1.0
        while not stop.is_set():
            try:
                if not self.ready:
                    await self.start()
                    delay = 1.0
                assert self.client is not None
                listen = asyncio.ensure_future(serve(self.client, self.handle))
                stopping = asyncio.ensure_future(stop.wait())
                try:
                    await asyncio.wait({listen, stopping}, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    stopping.cancel()
                if not listen.done():
                    listen.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await listen
                    break
                listen.result()  # raises what ended the stream
                if stop.is_set():
                    break
                raise WechatyConnectionError("the Wechaty event stream ended")
            except (WechatyLoggedOut, WechatyAuthError, WechatyError, OSError) as exc:
                log.error(
                    "WECHATY DOWN (%s): %s; reconnecting in %.0fs", type(exc).__name__, exc, delay
                )
                await self.close()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=delay)
                delay = min(self.cfg.reconnect_max_seconds, delay * 2)
        await self.close()

    async def handle(self, m: WechatyMessage) -> None:
        age = self.wall_clock() - m.timestamp
        if age > self.cfg.max_message_age_seconds:
            self.skipped_old += 1
            log.info(
                "wechaty: message %s is %.0fs old (replayed?); not answered", m.message_id, age
            )
            return
        msg = InboundMessage(
            channel=CHANNEL,
            chat_id=m.room_id or m.talker_id,
            user_id=m.talker_id,
            is_group=m.is_room,
            mentions_bot=m.mentions_self if m.is_room else True,
            text=m.clean_text if m.is_room else m.text,
            message_id=m.message_id,
            received_at=self.clock(),
            sender_name=(m.talker_room_alias or m.talker_name or "")[:32],
        )
        await self.engine.handle(msg)
        self.handled += 1

    def health(self) -> dict[str, object]:
        if self.client is None:
            return {"connected": False, "logged_in": False}
        return self.client.health()

    async def close(self) -> None:
        client, self.client = self.client, None
        if client is not None:
            await client.close()


class WechatyTransport:
    """Outbox transport of the Wechaty channel, paced like a careful human."""

    channel = CHANNEL
    transactional = False

    def __init__(
        self, cfg: WechatyConfig, bridge: WechatyBridge | None, pacer: Pacer | None = None
    ) -> None:
        self.cfg = cfg
        self.bridge = bridge
        self.pacer = pacer or Pacer(
            min_gap=cfg.min_gap_seconds,
            max_gap=cfg.max_gap_seconds,
            switch_min_gap=cfg.switch_min_gap_seconds,
            switch_max_gap=cfg.switch_max_gap_seconds,
            per_hour=cfg.max_per_hour,
        )
        self._admission = Admission(self.pacer)

    def admit(self, row: OutboxRow) -> float:
        if self.bridge is None or not self.bridge.ready:
            return NOT_READY_RETRY
        return self._admission.reserve(row.id, row.chat_id)

    async def deliver(self, row: OutboxRow, session: AsyncSession | None) -> None:
        try:
            await self._deliver(row)
        finally:
            self._admission.release(row.id)

    async def _deliver(self, row: OutboxRow) -> None:
        client = self.bridge.client if self.bridge is not None else None
        if client is None or not client.logged_in:
            raise DeliveryDeferred(
                "Wechaty gateway not connected or not logged in", retry_after=NOT_READY_RETRY
            )
        wait = self._admission.take(row.id, row.chat_id)
        if wait > 0:
            raise DeliveryDeferred("pacing", retry_after=wait)
        try:
            if row.mention_user_ids:
                await client.say_to_room(row.chat_id, row.text, list(row.mention_user_ids))
            else:
                await client.say_to_contact(row.chat_id, row.text)
        except WechatyAuthError as exc:
            raise DeliveryError(str(exc), retry_after=300) from None
        except WechatyError as exc:
            raise DeliveryError(str(exc)) from None
