"""The login configuration: providers off by default, secrets from the environment, a provider
chosen without its credentials refused at start-up (exit 2), and ``sms_sender`` building the
sender the configuration names — checked end to end against the fakes."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import AppConfig, ConfigError, load_config
from bot.login.sms import AliyunSms, LogSms, TencentSms, sms_sender
from bot.login.wechat_oauth import WeChatWebAuth
from tests.fakes.aliyun_sms import aliyun_sms_fake
from tests.fakes.tencent_sms import tencent_sms_fake
from tests.fakes.wechat_oauth import wechat_oauth_fake

ROOT = Path(__file__).resolve().parents[2]

TENCENT_ENV = {
    "SMS_PROVIDER": "tencent",
    "TENCENT_SMS_SECRET_ID": "AKIDfakefakefake",
    "TENCENT_SMS_SECRET_KEY": "tencent-key-value",
    "TENCENT_SMS_SDK_APP_ID": "1400000001",
    "TENCENT_SMS_SIGN_NAME": "沙县零工",
    "TENCENT_SMS_TEMPLATE_ID": "2233445",
}
ALIYUN_ENV = {
    "SMS_PROVIDER": "aliyun",
    "ALIYUN_SMS_ACCESS_KEY_ID": "LTAIfakefakefake",
    "ALIYUN_SMS_ACCESS_KEY_SECRET": "aliyun-secret-value",
    "ALIYUN_SMS_SIGN_NAME": "沙县零工",
    "ALIYUN_SMS_TEMPLATE_CODE": "SMS_465930123",
}


def test_everything_is_off_by_default() -> None:
    cfg = load_config(ROOT / "config.yaml", env={})
    assert cfg.sms.provider == "none"
    assert (cfg.sms.code_ttl_seconds, cfg.sms.max_attempts) == (300, 5)
    assert (cfg.sms.per_phone_per_hour, cfg.sms.per_ip_per_hour) == (5, 20)
    assert sms_sender(cfg.sms) is None
    assert not cfg.wechat_web_auth.enabled


def test_the_log_sender_only_when_asked() -> None:
    cfg = load_config(None, env={"SMS_PROVIDER": "log"})
    assert isinstance(sms_sender(cfg.sms), LogSms)
    for env in ({}, {"TENCENT_SMS_SECRET_ID": "AKIDx"}, {"SMS_PROVIDER": "none"}):
        assert sms_sender(load_config(None, env=env).sms) is None


@pytest.mark.parametrize(
    ("env", "named", "not_named"),
    [
        ({"SMS_PROVIDER": "tencent"}, [v for v in TENCENT_ENV if v != "SMS_PROVIDER"], []),
        (
            {k: v for k, v in TENCENT_ENV.items() if k != "TENCENT_SMS_SECRET_KEY"},
            ["TENCENT_SMS_SECRET_KEY"],
            ["TENCENT_SMS_SECRET_ID", "TENCENT_SMS_TEMPLATE_ID"],
        ),
        (
            {k: v for k, v in ALIYUN_ENV.items() if k != "ALIYUN_SMS_TEMPLATE_CODE"},
            ["ALIYUN_SMS_TEMPLATE_CODE"],
            ["ALIYUN_SMS_ACCESS_KEY_ID"],
        ),
        ({**TENCENT_ENV, "SMS_PROVIDER": "aliyun"}, [v for v in ALIYUN_ENV if v != "SMS_PROVIDER"], []),
    ],
)
def test_a_provider_without_its_credentials_is_refused(
    env: dict[str, str], named: list[str], not_named: list[str]
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(ROOT / "config.yaml", env=env)
    message = str(caught.value)
    assert "sms" in message and "配置有误" in message
    for var in named:
        assert var in message
    for var in not_named:
        assert var not in message


def test_an_unknown_provider_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"sms\.provider"):
        load_config(None, env={"SMS_PROVIDER": "twilio"})


def test_credentials_come_from_the_environment_and_stay_out_of_repr() -> None:
    cfg = load_config(None, env={**TENCENT_ENV, "SMS_PROVIDER": "Tencent"})
    t = cfg.sms.tencent
    assert cfg.sms.provider == "tencent"
    assert (t.secret_id, t.secret_key, t.sdk_app_id, t.sign_name, t.template_id) == (
        "AKIDfakefakefake", "tencent-key-value", "1400000001", "沙县零工", "2233445",
    )
    assert t.endpoint == "https://sms.tencentcloudapi.com" and t.region == "ap-guangzhou"
    assert "tencent-key-value" not in repr(cfg)
    a = load_config(None, env=ALIYUN_ENV).sms.aliyun
    assert (a.access_key_id, a.access_key_secret, a.template_code) == (
        "LTAIfakefakefake", "aliyun-secret-value", "SMS_465930123",
    )
    assert a.endpoint == "https://dysmsapi.aliyuncs.com"


def test_yaml_and_environment_combine(tmp_path: Path) -> None:
    p = tmp_path / "c.yaml"
    p.write_text(
        "sms:\n  provider: aliyun\n  per_phone_per_hour: 3\n"
        "  aliyun:\n    sign_name: 沙县零工\n    template_code: SMS_1\n    template_param: number\n",
        encoding="utf-8",
    )
    env = {"ALIYUN_SMS_ACCESS_KEY_ID": "LTAIx", "ALIYUN_SMS_ACCESS_KEY_SECRET": "s"}
    cfg = load_config(p, env=env)
    assert (cfg.sms.provider, cfg.sms.per_phone_per_hour) == ("aliyun", 3)
    assert (cfg.sms.aliyun.access_key_id, cfg.sms.aliyun.template_param) == ("LTAIx", "number")
    with pytest.raises(ConfigError, match="ALIYUN_SMS_ACCESS_KEY_SECRET"):
        load_config(p, env={"ALIYUN_SMS_ACCESS_KEY_ID": "LTAIx"})


def test_wechat_web_auth_is_on_with_the_official_accounts_appid_and_secret() -> None:
    cfg = load_config(None, env={"WECHAT_OA_APPID": "wx0123456789abcdef"})
    assert not cfg.wechat_web_auth.enabled
    cfg = load_config(
        None,
        env={
            "WECHAT_OA_APPID": "wx0123456789abcdef",
            "WECHAT_OA_SECRET": "oa-secret-value",
            "WECHAT_API_BASE": "http://127.0.0.1:9001",
            "WECHAT_OPEN_BASE": "http://127.0.0.1:9002",
        },
    )
    w = cfg.wechat_web_auth
    assert w.enabled and (w.appid, w.secret) == ("wx0123456789abcdef", "oa-secret-value")
    assert (w.api_base, w.open_base) == ("http://127.0.0.1:9001", "http://127.0.0.1:9002")
    assert cfg.wechat_oa.appid == "wx0123456789abcdef"  # the 公众号 channel sees the same id
    assert "oa-secret-value" not in repr(w)


def test_a_provider_without_credentials_exits_2(tmp_path: Path) -> None:
    p = tmp_path / "c.yaml"
    p.write_text("sms:\n  provider: tencent\n", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(p), "db", "upgrade"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
    )
    assert proc.returncode == 2
    assert "TENCENT_SMS_SECRET_KEY" in proc.stderr and "配置" in proc.stderr
    assert "Traceback" not in proc.stderr


async def test_configured_tencent_sender_reaches_the_fake() -> None:
    env = TENCENT_ENV
    async with tencent_sms_fake(
        env["TENCENT_SMS_SECRET_ID"], env["TENCENT_SMS_SECRET_KEY"],
        sdk_app_id=env["TENCENT_SMS_SDK_APP_ID"], sign_name=env["TENCENT_SMS_SIGN_NAME"],
        template_id=env["TENCENT_SMS_TEMPLATE_ID"],
    ) as fake:
        cfg = load_config(None, env={**env, "SMS_API_BASE": fake.url})
        sender = sms_sender(cfg.sms)
        assert isinstance(sender, TencentSms) and sender.name == "tencent"
        await sender.send_code("13812341234", "135790")
        await sender.close()
    assert fake.sent == [("+8613812341234", "135790")]


async def test_configured_aliyun_sender_reaches_the_fake() -> None:
    env = ALIYUN_ENV
    async with aliyun_sms_fake(
        env["ALIYUN_SMS_ACCESS_KEY_ID"], env["ALIYUN_SMS_ACCESS_KEY_SECRET"],
        sign_name=env["ALIYUN_SMS_SIGN_NAME"], template_code=env["ALIYUN_SMS_TEMPLATE_CODE"],
    ) as fake:
        cfg = load_config(None, env={**env, "SMS_API_BASE": fake.url})
        sender = sms_sender(cfg.sms)
        assert isinstance(sender, AliyunSms) and sender.name == "aliyun"
        await sender.send_code("13812341234", "135790")
        await sender.close()
    assert fake.sent == [("13812341234", "135790")]


async def test_configured_web_auth_reaches_the_fake() -> None:
    async with wechat_oauth_fake("wx0123456789abcdef", "oa-secret-value") as fake:
        cfg = load_config(
            None,
            env={
                "WECHAT_OA_APPID": "wx0123456789abcdef",
                "WECHAT_OA_SECRET": "oa-secret-value",
                "WECHAT_API_BASE": fake.url,
                "WECHAT_OPEN_BASE": fake.url,
            },
        )
        w = cfg.wechat_web_auth
        auth = WeChatWebAuth(w.appid, w.secret, api_base=w.api_base, open_base=w.open_base)
        assert auth.authorize_url("https://x.cn/cb", "s1").startswith(fake.url + "/connect/")
        fake.codes["abc"] = "oFakeOpenid0000000000000001"
        assert await auth.openid_for_code("abc") == "oFakeOpenid0000000000000001"
        await auth.close()


async def test_log_sender_masks_the_phone_and_keeps_the_last_code(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    sender = sms_sender(AppConfig.model_validate({"sms": {"provider": "log"}}).sms)
    assert isinstance(sender, LogSms) and sender.name == "log"
    await sender.send_code("13812341234", "111111")
    await sender.send_code("+86 138 1234 1234", "222222")
    assert sender.last_code("13812341234") == "222222"
    assert sender.last_code("13900000000") is None
    assert "code sent to 138****1234" in caplog.text
    assert "111111" not in caplog.text and "222222" not in caplog.text
    await sender.close()
