"""One aiohttp session for the login providers: borrowed from the caller or made lazily (inside
the running loop) and closed by ``close``. Every failure to get an answer is ``Unreachable``,
whose message never holds a query string (that is where secrets and codes travel)."""

from __future__ import annotations

import re

import aiohttp
from yarl import URL

USER_AGENT = "linggong/0.1"
_QUERY = re.compile(r"\?[^\s'\"]*")


class Unreachable(Exception):
    """No HTTP answer: connection refused or reset, DNS, TLS, or the timeout ran out."""


class HttpClient:
    """HTTP for the login providers (status and body back); every failure to get an answer is ``Unreachable``."""

    def __init__(self, *, timeout: float, session: aiohttp.ClientSession | None = None) -> None:
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._session = session
        self._owned = session is None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            if not self._owned:
                raise Unreachable("the borrowed HTTP session is closed")
            self._session = aiohttp.ClientSession(headers={"User-Agent": USER_AGENT})
        return self._session

    async def request(
        self,
        method: str,
        url: str | URL,
        *,
        headers: dict[str, str] | None = None,
        data: bytes | None = None,
    ) -> tuple[int, bytes]:
        """Send one request; the status and body of whatever answer came back. Without a body
        no Content-Type is sent (aiohttp would add one that the signature does not cover)."""
        skip = () if data is not None else ("Content-Type",)
        try:
            async with self._client().request(
                method, url, headers=headers, data=data, timeout=self.timeout,
                allow_redirects=False, skip_auto_headers=skip,
            ) as resp:
                return resp.status, await resp.read()
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            text = _QUERY.sub("?...", f"{type(exc).__name__} {exc}".strip())
            raise Unreachable(text) from None  # the cause may carry the full URL

    async def close(self) -> None:
        """Close the session if this client made it (a borrowed one stays open)."""
        if self._owned and self._session is not None and not self._session.closed:
            await self._session.close()
        if self._owned:
            self._session = None
