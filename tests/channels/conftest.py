"""Fixtures for the channel tests: repo on sys.path, the Node mock gateway.

The gateway fixture installs ``gateway/node_modules`` with ``npm ci`` when it
is missing or stale (nothing is skipped), then starts
``node gateway/mock_gateway.js`` on an ephemeral loopback port.
"""

from __future__ import annotations

import asyncio
import json
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

GATEWAY_DIR = REPO / "gateway"
GATEWAY_JS = GATEWAY_DIR / "mock_gateway.js"
GATEWAY_TOKEN = "insecure_shaxian_test_token"


def _node_modules_fresh() -> bool:
    marker = GATEWAY_DIR / "node_modules" / ".package-lock.json"
    lock = GATEWAY_DIR / "package-lock.json"
    svc = GATEWAY_DIR / "node_modules" / "wechaty-puppet-service" / "package.json"
    return marker.exists() and svc.exists() and marker.stat().st_mtime >= lock.stat().st_mtime


@pytest.fixture(scope="session")
def gateway_installed() -> Path:
    """Make sure the pinned npm packages are installed (``npm ci``, scripts off via .npmrc)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    assert node and npm, "node and npm are required for the Wechaty gateway tests"
    if not _node_modules_fresh():
        proc = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=GATEWAY_DIR,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        out = f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        assert proc.returncode == 0, f"npm ci failed:\n{out}"
    assert _node_modules_fresh(), "gateway/node_modules is still missing after npm ci"
    return GATEWAY_DIR


class MockGateway:
    """A running ``mock_gateway.js``; JSON lines in both directions."""

    def __init__(self, *extra_args: str, token: str = GATEWAY_TOKEN) -> None:
        self.token = token
        env = {**os.environ, "WECHATY_LOG": os.environ.get("WECHATY_LOG", "warn")}
        env.pop("WECHATY_PUPPET_SERVICE_NO_TLS_INSECURE_SERVER", None)
        self.proc = subprocess.Popen(
            ["node", str(GATEWAY_JS), "--token", token, "--port", "0", *extra_args],
            cwd=GATEWAY_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            env=env,
        )
        self.events: queue.Queue[dict] = queue.Queue()
        self.history: list[dict] = []
        self.stderr_lines: list[str] = []
        self._seq = 0
        self._threads = [
            threading.Thread(target=self._read_stdout, daemon=True),
            threading.Thread(target=self._read_stderr, daemon=True),
        ]
        for t in self._threads:
            t.start()
        self.ready = self.wait_sync(lambda e: e.get("event") in ("ready", "fatal"), 60)
        assert self.ready["event"] == "ready", f"gateway failed: {self.ready} {self.stderr_text()}"
        self.endpoint: str = self.ready["endpoint"]
        self.self_id: str = self.ready["self"]["id"]
        self.self_name: str = self.ready["self"]["name"]
        self.room_id: str = self.ready["rooms"][0]["id"]
        self.room_topic: str = self.ready["rooms"][0]["topic"]
        self.contacts: dict[str, str] = {c["id"]: c["name"] for c in self.ready["contacts"]}

    def _read_stdout(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            line = line.strip()
            if not line:
                continue
            try:
                ev = json.loads(line)
            except ValueError:
                ev = {"event": "garbage", "line": line}
            if isinstance(ev, dict):
                ev["_t"] = time.monotonic()  # when the gateway reported it (pacing checks)
            self.events.put(ev)

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr_lines.append(line.rstrip())

    def stderr_text(self) -> str:
        return "\n".join(self.stderr_lines[-40:])

    def send(self, op: str, **fields) -> int:
        self._seq += 1
        cmd = {"op": op, "seq": self._seq, **fields}
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(cmd, ensure_ascii=False) + "\n")
        self.proc.stdin.flush()
        return self._seq

    def _poll(self, pred: Callable[[dict], bool]) -> dict | None:
        """Move queued events into history; pop and return the first one matching ``pred``."""
        while True:
            try:
                self.history.append(self.events.get_nowait())
            except queue.Empty:
                break
        for i, ev in enumerate(self.history):
            if pred(ev):
                return self.history.pop(i)
        return None

    def _timeout_error(self, timeout: float) -> AssertionError:
        state = "running" if self.proc.poll() is None else f"exited {self.proc.returncode}"
        return AssertionError(
            f"gateway event not seen in {timeout}s (gateway {state}); "
            f"unmatched: {self.history[-10:]}\nstderr:\n{self.stderr_text()}"
        )

    def wait_sync(self, pred: Callable[[dict], bool], timeout: float = 10.0) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            found = self._poll(pred)
            if found is not None:
                return found
            if time.monotonic() >= deadline:
                raise self._timeout_error(timeout)
            time.sleep(0.02)

    async def wait(self, pred: Callable[[dict], bool], timeout: float = 10.0) -> dict:
        """Like wait_sync, but yields to the event loop while polling."""
        deadline = time.monotonic() + timeout
        while True:
            found = self._poll(pred)
            if found is not None:
                return found
            if time.monotonic() >= deadline:
                raise self._timeout_error(timeout)
            await asyncio.sleep(0.02)

    async def command(self, op: str, timeout: float = 10.0, **fields) -> dict:
        seq = self.send(op, **fields)
        ev = await self.wait(
            lambda e: e.get("seq") == seq and e.get("event") in ("ack", "error"), timeout
        )
        assert ev["event"] == "ack", f"gateway refused {op}: {ev}"
        return ev

    def bot_says(self) -> list[dict]:
        """Remove and return every recorded bot_say seen so far."""
        self._poll(lambda e: False)
        out = [e for e in self.history if e.get("event") == "bot_say"]
        self.history = [e for e in self.history if e.get("event") != "bot_say"]
        return out

    def stop(self) -> None:
        """Stop the gateway (closing stdin makes it exit) and release every pipe."""
        if self.proc.poll() is None:
            try:
                assert self.proc.stdin is not None
                self.proc.stdin.close()
                self.proc.wait(timeout=10)
            except Exception:
                self.proc.terminate()
                try:
                    self.proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(timeout=5)
        for t in self._threads:
            t.join(timeout=5)
        for pipe in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if pipe is not None and not pipe.closed:
                pipe.close()


@pytest.fixture(scope="module")
def gateway(gateway_installed) -> Iterator[MockGateway]:
    """A logged-in gateway shared by a module's tests."""
    gw = MockGateway()
    try:
        yield gw
    finally:
        gw.stop()


@pytest.fixture
def gateway_factory(gateway_installed) -> Iterator[Callable[..., MockGateway]]:
    """Start extra gateways with custom flags (e.g. --no-login, --tls); all stopped afterwards."""
    started: list[MockGateway] = []

    def start(*args: str, token: str = GATEWAY_TOKEN) -> MockGateway:
        gw = MockGateway(*args, token=token)
        started.append(gw)
        return gw

    try:
        yield start
    finally:
        for gw in started:
            gw.stop()


# ----------------------------------------------------------------------------- the real app
from contextlib import asynccontextmanager

from aiohttp import web

from bot.app import Services, build_app, build_services
from bot.config import AppConfig, load_config

OA_TOKEN = "shaxianToken2026"
OA_APPID = "wx1234567890abcdef"
OA_SECRET = "fake_secret"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 chars, like a real EncodingAESKey
CORP_ID = "ww0123456789abcdef"
CORP_SECRET = "fake_corp_secret"


def channel_config(db_url: str, **env: str) -> AppConfig:
    """config.yaml plus channel environment variables, as ``linggong serve`` would read them."""
    return load_config(REPO / "config.yaml", env={"DATABASE_URL": db_url, **env})


def with_section(cfg: AppConfig, section: str, **changes: object) -> AppConfig:
    """A copy of ``cfg`` with some settings of one section changed (validated again)."""
    data = cfg.model_dump()
    data[section].update(changes)
    return AppConfig.model_validate(data)


@asynccontextmanager
async def serving(app: web.Application):
    """Run ``app`` on 127.0.0.1:<free port>; yields the base URL."""
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@asynccontextmanager
async def running_services(cfg: AppConfig, db, clock, **kwargs):  # type: ignore[no-untyped-def]
    """Services built the way ``linggong serve`` builds them, closed afterwards."""
    services: Services = build_services(cfg, db=db, clock=clock, **kwargs)
    try:
        yield services
    finally:
        assert services.channels is not None
        await services.channels.aclose()


@asynccontextmanager
async def serving_services(services: Services):
    """The real aiohttp app of ``services`` (no background tasks) on loopback."""
    async with serving(build_app(services, with_background=False)) as base:
        yield base
