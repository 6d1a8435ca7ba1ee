"""Fakes of outside HTTP services on 127.0.0.1 that check requests the way the real service does
(signatures recomputed from what arrived on the wire) and answer in its real JSON shapes.

    async with tencent_sms_fake(SECRET_ID, SECRET_KEY) as fake:   # tests/fakes/tencent_sms.py
        sender = TencentSms(..., endpoint=fake.url)
        fake.fail_next = "LimitExceeded.PhoneNumberDailyLimit"
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web


@asynccontextmanager
async def serving(app: web.Application) -> AsyncIterator[str]:
    """Run ``app`` on 127.0.0.1:<free port>; yields its base URL (no trailing slash)."""
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


def unused_url() -> str:
    """A loopback base URL where nothing listens (the port was free a moment ago)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"
