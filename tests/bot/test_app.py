"""The served app freezes its start-up heap; apps built for other uses leave the collector alone."""

from __future__ import annotations

import gc

from aiohttp.test_utils import TestClient, TestServer

from bot.app import Services, build_app


async def test_serve_freezes_the_start_up_heap(services: Services) -> None:
    gc.unfreeze()
    try:
        async with TestClient(TestServer(build_app(services, with_background=False))) as plain:
            assert gc.get_freeze_count() == 0
            assert (await plain.get("/healthz")).status == 200
        served = build_app(services, with_background=False, freeze_heap=True)
        async with TestClient(TestServer(served)) as client:
            assert gc.get_freeze_count() > 10_000  # the loaded modules and data, at least
            assert (await client.get("/healthz")).status == 200
    finally:
        gc.unfreeze()
