"""``linggong serve`` refuses a database whose schema is missing or behind: one line, exit 2."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from storage.migrate import schema_status, schema_status_async, upgrade
from tests.conftest import PG_ADMIN_URL, _pg_admin

ROOT = Path(__file__).resolve().parents[2]


def _serve(url: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(ROOT / "config.yaml"), "serve", "--port", "0"],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False,
    )


def _assert_refused(proc: subprocess.CompletedProcess[str], needle: str) -> None:
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "linggong db upgrade" in lines[0] and needle in lines[0]
    assert any("\u4e00" <= c <= "\u9fff" for c in lines[0])
    assert proc.stdout == ""


def test_serve_on_an_empty_sqlite_file_says_to_upgrade(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    path.touch()
    url = f"sqlite+aiosqlite:///{path}"
    assert schema_status(url) == "missing"
    _assert_refused(_serve(url, tmp_path), "no schema")


def test_serve_on_an_out_of_date_sqlite_database_says_to_upgrade(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0005")
    assert schema_status(url) == "behind"
    _assert_refused(_serve(url, tmp_path), "out of date")


def test_serve_on_an_absent_sqlite_file_does_not_create_it(tmp_path: Path) -> None:
    path = tmp_path / "var" / "none.db"
    url = f"sqlite+aiosqlite:///{path}"
    assert schema_status(url) == "missing"
    _assert_refused(_serve(url, tmp_path), "no schema")
    assert not path.exists()


def test_status_of_a_migrated_database(db_url: str) -> None:
    assert schema_status(db_url) == "current"


async def test_status_from_inside_an_event_loop(db_url: str) -> None:
    assert schema_status(db_url) == "current"
    assert await schema_status_async(db_url) == "current"


def test_an_unknown_revision_is_unknown(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "future.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    assert schema_status(f"sqlite+aiosqlite:///{path}") == "unknown"
    proc = _serve(f"sqlite+aiosqlite:///{path}", tmp_path)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr


@pytest.fixture
def fresh_pg_url() -> object:
    name = f"lg_status_{uuid.uuid4().hex[:10]}"
    asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    yield f"{base}/{name}"
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_postgres_missing_behind_current(fresh_pg_url: str, tmp_path: Path) -> None:
    assert schema_status(fresh_pg_url) == "missing"
    _assert_refused(_serve(fresh_pg_url, tmp_path), "no schema")
    upgrade(fresh_pg_url, "0005")
    assert schema_status(fresh_pg_url) == "behind"
    upgrade(fresh_pg_url)
    assert schema_status(fresh_pg_url) == "current"


def test_an_unreachable_database_is_one_line_too(tmp_path: Path) -> None:
    proc = _serve("postgresql+asyncpg://nobody@127.0.0.1:1/none", tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
