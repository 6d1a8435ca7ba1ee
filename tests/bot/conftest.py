"""Fixtures of the browser tests: a real server, and one real Chromium per test (Debian's)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.bot.test_browser import CHROMIUM, serve_subprocess


@pytest.fixture
def server(db_url: str) -> Iterator[str]:
    """A real `linggong serve` in demo mode with the demo data loaded."""
    yield from serve_subprocess(db_url, demo_data=True)


@pytest.fixture
def chromium() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        yield b
        b.close()
