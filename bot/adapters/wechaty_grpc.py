"""Thin async Wechaty client on ``wechaty-grpc`` + ``grpclib`` (no python-wechaty).

Talks plaintext gRPC/HTTP-2 to a Wechaty *puppet-service* gateway (the Node
``wechaty-puppet-service`` PuppetServer, run with TLS disabled), so the bot can
read personal-WeChat group ("room") messages, see @-mentions and private
messages, and reply — optionally with mentions.

Engine-independent on purpose: plain frozen dataclasses in, plain strings out.

Pins (verified with the Node gateway in ``gateway/``)::

    wechaty-grpc==0.20.19  betterproto==1.2.5  grpclib==0.4.9

Protocol facts this module relies on (see docs/reference wechat-channels §1.4-1.6):

* Auth: every call carries the metadata ``authorization: Wechaty <token>``
  (what the Node 1.x client sends; the gateway compares the token verbatim).
  Old gateways that only look at the HTTP/2 ``:authority`` header can be served
  with ``authority_token=True`` (python-wechaty's old behaviour).
* No TLS: grpclib here speaks plaintext, so the gateway must be started with
  ``WECHATY_PUPPET_SERVICE_NO_TLS_INSECURE_SERVER=true`` or
  ``PuppetServer({tls: {disable: true}})``.
* Always give an explicit ``host:port`` endpoint; we never do the
  ``api.chatie.io`` token discovery.
* Node gateways put the *ts-wechaty-puppet* enum into
  ``MessagePayloadResponse.type`` (Text = 7), not the proto enum (TEXT = 6).
* The event stream starts with a heartbeat, then (if logged in) a login event.
  Message events carry only ``{"messageId": ...}``; payloads are looked up.
* The bot's own sends come back as message events: they are filtered out.
* Message ids can be replayed after a reconnect: they are de-duplicated.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import logging
import os
import re
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass

from grpclib.client import Channel
from grpclib.const import Status
from grpclib.exceptions import GRPCError, ProtocolError, StreamTerminatedError
from wechaty_grpc.wechaty import PuppetStub
from wechaty_grpc.wechaty.puppet import EventResponse, EventType

__all__ = [
    "WechatyAuthError",
    "WechatyClient",
    "WechatyConnectionError",
    "WechatyError",
    "WechatyLoggedOut",
    "WechatyLoginTimeout",
    "WechatyMessage",
    "check_login",
    "main",
    "serve",
]

log = logging.getLogger(__name__)

AT_SEPARATOR = "\u2005"  # WeChat puts a FOUR-PER-EM SPACE after "@name"

# ts-wechaty-puppet MessageType enum, which is what Node gateways send.
_PUPPET_MESSAGE_TYPES = {
    0: "unknown",
    1: "attachment",
    2: "audio",
    3: "contact",
    4: "chat_history",
    5: "emoticon",
    6: "image",
    7: "text",
    8: "location",
    9: "mini_program",
    10: "group_note",
    11: "transfer",
    12: "red_envelope",
    13: "recalled",
    14: "url",
    15: "video",
    16: "post",
}

_NO_TLS_HINT = (
    "This client speaks plaintext gRPC only: start the gateway with "
    "WECHATY_PUPPET_SERVICE_NO_TLS_INSECURE_SERVER=true "
    "(or PuppetServer({tls: {disable: true}}))."
)


# --------------------------------------------------------------------------- errors


class WechatyError(Exception):
    """Base class for everything this adapter raises."""


class WechatyConnectionError(WechatyError, ConnectionError):
    """The gateway cannot be reached, dropped the connection or speaks TLS."""


class WechatyAuthError(WechatyError):
    """The gateway rejected the token (gRPC UNAUTHENTICATED)."""


class WechatyLoginTimeout(WechatyError, TimeoutError):
    """No login event within the allowed time: the WeChat account is not logged in."""


class WechatyLoggedOut(WechatyError):
    """The WeChat account behind the gateway logged out while we were listening."""


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class WechatyMessage:
    """One incoming message, fully resolved (names/topics already looked up).

    ``text`` is the raw text as WeChat delivers it (mentions included, e.g.
    ``"@沙县零工助手\u2005招工…"``); ``clean_text`` has the ``@name`` mentions
    of resolved members removed.  ``timestamp`` is epoch seconds.
    """

    message_id: str
    talker_id: str
    talker_name: str
    room_id: str | None
    text: str
    mention_ids: tuple[str, ...]
    mentions_self: bool
    timestamp: float
    room_topic: str | None = None
    talker_room_alias: str | None = None
    clean_text: str = ""
    message_type: str = "text"

    @property
    def is_room(self) -> bool:
        return self.room_id is not None

    @property
    def is_private(self) -> bool:
        return self.room_id is None


@dataclass
class _CacheEntry:
    value: object
    expires: float


class _TTLCache:
    def __init__(self, ttl: float, maxsize: int = 2048) -> None:
        self.ttl = ttl
        self.maxsize = maxsize
        self._d: collections.OrderedDict[object, _CacheEntry] = collections.OrderedDict()

    def get(self, key):
        e = self._d.get(key)
        if e is None or e.expires < time.monotonic():
            self._d.pop(key, None)
            return None
        return e.value

    def put(self, key, value) -> None:
        self._d[key] = _CacheEntry(value, time.monotonic() + self.ttl)
        self._d.move_to_end(key)
        while len(self._d) > self.maxsize:
            self._d.popitem(last=False)

    def drop(self, key) -> None:
        self._d.pop(key, None)


_STOP = object()


def _parse_endpoint(endpoint: str) -> tuple[str, int]:
    ep = (endpoint or "").strip()
    if not ep:
        raise WechatyError(
            "no Wechaty gateway endpoint given (expected 'host:port'); "
            "token-based discovery via api.chatie.io is not supported"
        )
    ep = re.sub(r"^(grpc|http)s?://", "", ep)
    m = re.fullmatch(r"\[([0-9a-fA-F:]+)\]:(\d{1,5})|([^:\s/]+):(\d{1,5})", ep)
    if not m:
        raise WechatyError(f"bad Wechaty gateway endpoint {endpoint!r} (expected 'host:port')")
    host = m.group(1) or m.group(3)
    port = int(m.group(2) or m.group(4))
    if not 0 < port < 65536:
        raise WechatyError(f"bad port in Wechaty gateway endpoint {endpoint!r}")
    return host, port


def _ts_seconds(raw: int) -> float:
    """Node gateways send milliseconds; old Python fakes send seconds."""
    if not raw:
        return time.time()
    return raw / 1000.0 if raw > 10**11 else float(raw)


# --------------------------------------------------------------------------- client


class WechatyClient:
    """Async client for one Wechaty puppet-service gateway.

    Typical use::

        client = WechatyClient()
        await client.connect("127.0.0.1:8788", token, timeout=10)
        self_id = await client.wait_login(timeout=60)
        async for msg in client.events():
            if msg.is_room and msg.mentions_self:
                await client.say_to_room(msg.room_id, "收到", mention_ids=[msg.talker_id])
            elif msg.is_private:
                await client.say_to_contact(msg.talker_id, "您好")
        await client.close()
    """

    def __init__(
        self,
        *,
        rpc_timeout: float = 15.0,
        cache_ttl: float = 300.0,
        dedup_size: int = 4096,
        authority_token: bool = False,
        on_scan: Callable[[str, int], Awaitable[None]] | None = None,
        on_logout: Callable[[str], Awaitable[None]] | None = None,
    ) -> None:
        self.rpc_timeout = rpc_timeout
        self.authority_token = authority_token
        self._on_scan = on_scan
        self._on_logout = on_logout
        self.endpoint: str | None = None
        self.self_id: str | None = None
        self.self_name: str | None = None
        self.last_event_at: float | None = None  # time.monotonic()
        self.last_scan: dict | None = None
        self._token: str = ""
        self._channel: Channel | None = None
        self._stub: PuppetStub | None = None
        self._event_stub: PuppetStub | None = None
        self._reader: asyncio.Task | None = None
        self._queue: asyncio.Queue[object] = asyncio.Queue()
        self._first_event = asyncio.Event()
        self._login_evt = asyncio.Event()
        self._dead = asyncio.Event()
        self._error: BaseException | None = None
        self._closed = False
        self._seen: collections.OrderedDict[str, None] = collections.OrderedDict()
        self._dedup_size = dedup_size
        self._contacts = _TTLCache(cache_ttl)
        self._rooms = _TTLCache(cache_ttl)
        self._members = _TTLCache(cache_ttl)

    # ---------------------------------------------------------------- lifecycle

    async def __aenter__(self) -> WechatyClient:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    async def connect(
        self,
        endpoint: str,
        token: str,
        timeout: float = 10.0,
    ) -> None:
        """Open the channel, authenticate, subscribe to events and start the puppet.

        Raises WechatyAuthError (wrong token), WechatyConnectionError
        (unreachable / TLS-only gateway) or WechatyError, within ``timeout`` s.
        """
        if self._channel is not None:
            raise WechatyError("connect() called twice")
        if not token:
            raise WechatyAuthError("no Wechaty token given (WECHATY_PUPPET_SERVICE_TOKEN)")
        host, port = _parse_endpoint(endpoint)
        self.endpoint = f"{host}:{port}"
        self._token = token
        self._channel = Channel(host, port)  # plaintext HTTP/2
        if self.authority_token:
            # Legacy gateways (< 0.28) read the token from :authority.
            self._channel._authority = token
        metadata = {"authorization": f"Wechaty {token}"}
        self._stub = PuppetStub(self._channel, timeout=self.rpc_timeout, metadata=metadata)
        self._event_stub = PuppetStub(self._channel, metadata=metadata)  # no deadline: long-lived
        deadline = time.monotonic() + timeout
        try:
            # 1. A cheap authenticated unary call: fails fast on a wrong token / no server / TLS.
            await asyncio.wait_for(self._stub.version(), timeout)
            # 2. Subscribe to events before Start, so no login/message is missed.
            self._reader = asyncio.create_task(self._read_events(), name="wechaty-events")
            remaining = max(0.1, deadline - time.monotonic())
            # Node gateways send a heartbeat right after subscribing; others may not
            # (the Node client also waits up to 5 s and then carries on).
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._first_event.wait(), min(5.0, remaining))
            if self._error is not None:
                raise self._error
            # 3. Start the puppet (idempotent on a running gateway).
            remaining = max(0.1, deadline - time.monotonic())
            await asyncio.wait_for(self._stub.start(), remaining)
        except TimeoutError:
            await self.close()
            raise WechatyConnectionError(
                f"Wechaty gateway at {self.endpoint} did not answer within {timeout:g}s. "
                + _NO_TLS_HINT
            ) from None
        except WechatyError:
            await self.close()
            raise
        except BaseException as e:
            await self.close()
            mapped = self._map_error(e, "connect")
            if mapped is e:
                raise
            raise mapped from e

    async def wait_login(self, timeout: float = 60.0) -> str:
        """Wait until the gateway reports a logged-in WeChat user; return its contact id."""
        if self._channel is None:
            raise WechatyError("wait_login() before connect()")
        if self.self_id:
            return self.self_id
        login = asyncio.ensure_future(self._login_evt.wait())
        dead = asyncio.ensure_future(self._dead.wait())
        try:
            await asyncio.wait({login, dead}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            login.cancel()
            dead.cancel()
        if self.self_id:
            return self.self_id
        if self._error is not None:
            raise self._error
        scan = ""
        if self.last_scan:
            status = self.last_scan.get("status")
            scan = f" The gateway is waiting for a QR-code scan (status {status})."
        raise WechatyLoginTimeout(
            f"no WeChat login reported by the Wechaty gateway at {self.endpoint} within "
            f"{timeout:g}s: the account behind the puppet is not logged in.{scan} "
            "Log the account in on the gateway side, then restart the bot."
        )

    async def close(self) -> None:
        """Stop listening and close the channel (does not stop the remote puppet)."""
        self._closed = True
        if self._reader is not None and not self._reader.done():
            self._reader.cancel()
            with contextlib.suppress(BaseException):
                await self._reader
        self._reader = None
        if self._channel is not None:
            self._channel.close()
        self._dead.set()
        self._queue.put_nowait(_STOP)

    # ---------------------------------------------------------------- health

    @property
    def logged_in(self) -> bool:
        return bool(self.self_id)

    def health(self) -> dict:
        """Snapshot for a health endpoint / watchdog."""
        since = None if self.last_event_at is None else time.monotonic() - self.last_event_at
        return {
            "endpoint": self.endpoint,
            "connected": self._channel is not None and not self._dead.is_set(),
            "logged_in": self.logged_in,
            "self_id": self.self_id,
            "seconds_since_last_event": None if since is None else round(since, 3),
            "error": None if self._error is None else str(self._error),
        }

    # ---------------------------------------------------------------- events

    async def _read_events(self) -> None:
        assert self._event_stub is not None
        try:
            async for ev in self._event_stub.event():
                self.last_event_at = time.monotonic()
                self._first_event.set()
                try:
                    await self._handle_event(ev)
                except Exception:
                    log.exception("wechaty: failed to handle event %s", ev.type)
            if not self._closed:
                self._fail(
                    WechatyConnectionError(
                        f"Wechaty gateway at {self.endpoint} closed the event stream"
                    )
                )
        except asyncio.CancelledError:
            raise
        except BaseException as e:
            if not self._closed:
                self._fail(self._map_error(e, "event stream"))

    def _fail(self, err: BaseException) -> None:
        if self._error is None:
            self._error = err
        log.warning("wechaty: %s", err)
        self._first_event.set()
        self._dead.set()
        self._queue.put_nowait(_STOP)

    async def _handle_event(self, ev: EventResponse) -> None:
        etype = int(ev.type)
        try:
            payload = json.loads(ev.payload) if ev.payload else {}
        except ValueError:
            payload = {}
        if etype == EventType.EVENT_TYPE_MESSAGE:
            mid = payload.get("messageId") or payload.get("id")
            if mid:
                self._queue.put_nowait(str(mid))
        elif etype == EventType.EVENT_TYPE_LOGIN:
            cid = payload.get("contactId") or ""
            if cid:
                try:
                    name = (await self._contact(cid)).name or None
                except GRPCError:
                    name = None
                # set both together: wait_login() callers may read self_name right away
                self.self_name, self.self_id = name, cid
                self._login_evt.set()
                log.info("wechaty: logged in as %s (%s)", cid, name)
        elif etype == EventType.EVENT_TYPE_LOGOUT:
            who = payload.get("contactId") or self.self_id or ""
            self.self_id = None
            self._login_evt.clear()
            if self._on_logout is not None:
                await self._on_logout(who)
            self._queue.put_nowait(("logout", who))
        elif etype == EventType.EVENT_TYPE_SCAN:
            self.last_scan = payload
            if self._on_scan is not None:
                qrcode = str(payload.get("qrcode") or "")
                await self._on_scan(qrcode, int(payload.get("status") or 0))
        elif etype == EventType.EVENT_TYPE_DIRTY:
            pid = payload.get("payloadId") or ""
            for cache in (self._contacts, self._rooms):
                cache.drop(pid)
        elif etype == EventType.EVENT_TYPE_ERROR:
            log.warning("wechaty gateway error event: %s", ev.payload[:500])
        # heartbeat / dong / ready / room-* / friendship: only refresh last_event_at

    async def events(
        self, *, include_self: bool = False, text_only: bool = True, raise_on_logout: bool = True
    ) -> AsyncIterator[WechatyMessage]:
        """Yield incoming messages, resolved, de-duplicated, own messages skipped.

        Ends normally after close(); raises WechatyConnectionError if the stream
        breaks and WechatyLoggedOut on a logout (unless raise_on_logout=False).
        """
        while True:
            item = await self._queue.get()
            if self._closed or self._dead.is_set():
                # Never resolve after close()/a broken stream: an RPC would silently
                # reopen the channel.  Messages still queued are dropped (a reconnecting
                # supervisor sees them again if the gateway replays them).
                item = _STOP
            if item is _STOP:
                self._queue.put_nowait(_STOP)  # let other/later consumers stop too
                if self._error is not None and not self._closed:
                    raise self._error
                return
            if isinstance(item, tuple) and item and item[0] == "logout":
                if raise_on_logout:
                    raise WechatyLoggedOut(
                        f"the WeChat account {item[1]!r} logged out of the Wechaty gateway "
                        f"at {self.endpoint}"
                    )
                continue
            mid = str(item)
            if mid in self._seen:
                continue
            self._seen[mid] = None
            while len(self._seen) > self._dedup_size:
                self._seen.popitem(last=False)
            try:
                msg = await self._resolve(mid)
            except GRPCError as e:
                err = self._map_error(e, "MessagePayload")
                log.warning("wechaty: cannot resolve message %s: %s", mid, err)
                continue
            except Exception as e:
                if self._closed:
                    return
                mapped = self._map_error(e, "MessagePayload")
                if mapped is e:
                    raise
                raise mapped from e
            if msg is None:
                continue
            if not include_self and self.self_id and msg.talker_id == self.self_id:
                continue
            if text_only and msg.message_type != "text":
                continue
            yield msg

    # ---------------------------------------------------------------- lookups

    async def _contact(self, contact_id: str):
        c = self._contacts.get(contact_id)
        if c is None:
            assert self._stub is not None
            c = await self._stub.contact_payload(id=contact_id)
            self._contacts.put(contact_id, c)
        return c

    async def _room(self, room_id: str):
        r = self._rooms.get(room_id)
        if r is None:
            assert self._stub is not None
            r = await self._stub.room_payload(id=room_id)
            self._rooms.put(room_id, r)
        return r

    async def _member_names(self, room_id: str, contact_id: str) -> tuple[str, str | None]:
        """(contact name, room alias or None) for a room member; tolerant of lookup errors."""
        key = (room_id, contact_id)
        v = self._members.get(key)
        if v is not None:
            return v
        name, alias = "", None
        assert self._stub is not None
        try:
            m = await self._stub.room_member_payload(id=room_id, member_id=contact_id)
            name, alias = m.name or "", (m.room_alias or None)
        except GRPCError:
            pass
        if not name:
            try:
                name = (await self._contact(contact_id)).name or ""
            except GRPCError:
                name = ""
        v = (name or contact_id, alias)
        self._members.put(key, v)
        return v

    async def room_topic(self, room_id: str) -> str:
        return (await self._room(room_id)).topic

    async def contact_name(self, contact_id: str) -> str:
        return (await self._contact(contact_id)).name

    async def _resolve(self, message_id: str) -> WechatyMessage | None:
        assert self._stub is not None
        p = await self._stub.message_payload(id=message_id)
        talker_id = p.from_id  # field 6 (Node: talker_id)
        if not talker_id:
            return None
        room_id = p.room_id or None
        text = p.text or ""
        mention_ids = tuple(dict.fromkeys(i for i in p.mention_ids if i))
        mtype = _PUPPET_MESSAGE_TYPES.get(int(p.type), "unknown")
        room_topic = None
        alias = None
        names_to_strip: list[str] = []
        if room_id:
            try:
                room_topic = (await self._room(room_id)).topic or None
            except GRPCError:
                room_topic = None
            talker_name, alias = await self._member_names(room_id, talker_id)
            for mid in mention_ids:
                n, a = await self._member_names(room_id, mid)
                names_to_strip.extend(x for x in (a, n) if x)
        else:
            try:
                talker_name = (await self._contact(talker_id)).name or talker_id
            except GRPCError:
                talker_name = talker_id
        mentions_self = bool(self.self_id and self.self_id in mention_ids)
        # Some puppets do not fill mention_ids; fall back to the visible "@name".
        if (
            room_id
            and not mentions_self
            and self.self_name
            and re.search("@" + re.escape(self.self_name) + r"(?:[\u2005\s]|$)", text)
        ):
            mentions_self = True
        if room_id and self.self_name and mentions_self:
            names_to_strip.append(self.self_name)
        clean = text
        for n in sorted(set(names_to_strip), key=len, reverse=True):
            clean = re.sub("@" + re.escape(n) + r"(?:[\u2005 ]|$)", " ", clean)
        clean = re.sub(r"[ \u2005]{2,}", " ", clean).strip()
        return WechatyMessage(
            message_id=p.id or message_id,
            talker_id=talker_id,
            talker_name=talker_name,
            room_id=room_id,
            text=text,
            mention_ids=mention_ids,
            mentions_self=mentions_self,
            timestamp=_ts_seconds(int(p.timestamp)),
            room_topic=room_topic,
            talker_room_alias=alias,
            clean_text=clean,
            message_type=mtype,
        )

    # ---------------------------------------------------------------- sending

    async def _send_text(
        self, conversation_id: str, text: str, mention_ids: Iterable[str] = ()
    ) -> str | None:
        if self._stub is None or self._dead.is_set():
            raise self._error or WechatyConnectionError("not connected to a Wechaty gateway")
        if not self.self_id:
            raise WechatyError("cannot send: the WeChat account is not logged in")
        try:
            resp = await self._stub.message_send_text(
                conversation_id=conversation_id, text=text, mentonal_ids=list(mention_ids)
            )
        except BaseException as e:
            mapped = self._map_error(e, "MessageSendText")
            if mapped is e:
                raise
            raise mapped from e
        return resp.id or None

    async def say_to_contact(self, contact_id: str, text: str) -> str | None:
        """Send a private (1:1) text. Returns the message id if the gateway reports one."""
        return await self._send_text(contact_id, text)

    async def say_to_room(
        self,
        room_id: str,
        text: str,
        mention_ids: Iterable[str] = (),
        *,
        prefix_mentions: bool = True,
    ) -> str | None:
        """Send a text to a room; ``mention_ids`` are @-mentioned.

        With ``prefix_mentions`` the visible ``@name\\u2005`` prefix is added
        (as WeChat and Wechaty's Room.say do); the ids go on the wire as
        ``MessageSendTextRequest.mentonal_ids`` (sic, field 3).
        """
        ids = [i for i in dict.fromkeys(mention_ids) if i]
        if ids and prefix_mentions:
            prefix = ""
            for cid in ids:
                name, alias = await self._member_names(room_id, cid)
                prefix += f"@{alias or name}{AT_SEPARATOR}"
            text = prefix + text
        return await self._send_text(room_id, text, ids)

    # ---------------------------------------------------------------- errors

    def _redact(self, s: str) -> str:
        return s.replace(self._token, "***") if self._token else s

    def _map_error(self, e: BaseException, what: str) -> BaseException:
        ep = self.endpoint
        if isinstance(e, WechatyError):
            return e
        if isinstance(e, GRPCError):
            detail = self._redact(str(e.message or ""))
            if e.status == Status.UNAUTHENTICATED:
                return WechatyAuthError(
                    f"the Wechaty gateway at {ep} rejected the token "
                    f"({detail or 'UNAUTHENTICATED'}). Check that WECHATY_PUPPET_SERVICE_TOKEN "
                    "equals the token the gateway was started with."
                )
            if e.status == Status.UNAVAILABLE:
                return WechatyConnectionError(
                    f"Wechaty gateway at {ep} unavailable during {what}: {detail}"
                )
            return WechatyError(
                f"Wechaty gateway at {ep}: {what} failed with gRPC {e.status.name}: {detail}"
            )
        if isinstance(e, ConnectionRefusedError):
            return WechatyConnectionError(
                f"cannot connect to the Wechaty gateway at {ep}: connection refused"
            )
        if isinstance(e, (OSError, StreamTerminatedError, ProtocolError, EOFError)):
            why = f"{type(e).__name__}: {self._redact(str(e))}"
            return WechatyConnectionError(
                f"lost the Wechaty gateway at {ep} during {what} ({why}). " + _NO_TLS_HINT
            )
        return e


# --------------------------------------------------------------------------- helpers


async def serve(
    client: WechatyClient,
    handler: Callable[[WechatyMessage], Awaitable[None]],
    **events_kwargs,
) -> None:
    """Feed every incoming message to ``handler``; one failing message never stops the loop."""
    async for msg in client.events(**events_kwargs):
        try:
            await handler(msg)
        except Exception:
            log.exception("wechaty: handler failed for message %s", msg.message_id)


async def check_login(
    endpoint: str, token: str, *, connect_timeout: float = 10.0, login_timeout: float = 60.0
) -> str:
    """Health check: connect, wait for login, disconnect. Returns the bot's contact id."""
    client = WechatyClient()
    try:
        await client.connect(endpoint, token, timeout=connect_timeout)
        return await client.wait_login(timeout=login_timeout)
    finally:
        await client.close()


EXIT_OK, EXIT_LOGIN_TIMEOUT, EXIT_AUTH, EXIT_CONNECTION, EXIT_OTHER = 0, 2, 3, 4, 5


def main(argv: list[str] | None = None) -> int:
    """``python -m bot.adapters.wechaty_grpc --endpoint HOST:PORT --login-timeout N``

    The token is read from WECHATY_PUPPET_SERVICE_TOKEN (keep it out of argv).
    Exit codes: 0 logged in, 2 no login in time, 3 bad token, 4 unreachable, 5 other.
    """
    ap = argparse.ArgumentParser(
        prog="python -m bot.adapters.wechaty_grpc",
        description="Check that a Wechaty gateway is reachable and logged in.",
    )
    ap.add_argument("--endpoint", default=os.environ.get("WECHATY_PUPPET_SERVICE_ENDPOINT", ""))
    ap.add_argument("--connect-timeout", type=float, default=10.0)
    ap.add_argument("--login-timeout", type=float, default=60.0)
    args = ap.parse_args(argv)
    token = os.environ.get("WECHATY_PUPPET_SERVICE_TOKEN", "")
    try:
        self_id = asyncio.run(
            check_login(
                args.endpoint,
                token,
                connect_timeout=args.connect_timeout,
                login_timeout=args.login_timeout,
            )
        )
    except WechatyLoginTimeout as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_LOGIN_TIMEOUT
    except WechatyAuthError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_AUTH
    except WechatyConnectionError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_CONNECTION
    except WechatyError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_OTHER
    print(json.dumps({"ok": True, "self_id": self_id}, ensure_ascii=False))
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
