"""config.yaml is validated at start-up; a wrong one exits non-zero with a readable message."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError, load_config

ROOT = Path(__file__).resolve().parents[2]


def test_shipped_config_is_valid() -> None:
    cfg = load_config(ROOT / "config.yaml", env={})
    assert cfg.service.port == 8080
    assert cfg.database.url.startswith("sqlite+aiosqlite://")
    assert cfg.webchat.rooms


def test_env_secrets_are_expanded(tmp_path: Path) -> None:
    p = tmp_path / "c.yaml"
    p.write_text('service:\n  hotline: "${HOTLINE}"\n', encoding="utf-8")
    assert load_config(p, env={"HOTLINE": "12345"}).service.hotline == "12345"
    with pytest.raises(ConfigError, match="HOTLINE"):
        load_config(p, env={})


def test_database_url_from_environment(tmp_path: Path) -> None:
    cfg = load_config(None, env={"DATABASE_URL": "postgresql+asyncpg://x@127.0.0.1/db"})
    assert cfg.database.url == "postgresql+asyncpg://x@127.0.0.1/db"


@pytest.mark.parametrize(
    ("yaml_text", "needle"),
    [
        ("service:\n  port: 99999\n", "service.port"),
        ("service:\n  timezone: Mars/Base\n", "service.timezone"),
        ("servce:\n  port: 1\n", "servce"),
        ("database:\n  url: mysql://x\n", "database.url"),
        ("- just\n- a list\n", "mapping"),
        ("service: [unclosed\n", "YAML"),
    ],
)
def test_bad_config_exits_nonzero_with_message(tmp_path: Path, yaml_text: str, needle: str) -> None:
    p = tmp_path / "bad.yaml"
    p.write_text(yaml_text, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(p), "db", "upgrade"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert proc.returncode == 2
    assert needle in proc.stderr
    assert "配置" in proc.stderr  # Chinese for the operator, English beside it
    assert "Traceback" not in proc.stderr
