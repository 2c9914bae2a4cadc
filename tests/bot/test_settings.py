"""Configuration errors are one clear line; tokens are secrets."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bot.settings import ConfigError, Settings, load_settings


def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
        "SLACK_APP_TOKEN",
        "SLACK_CLIENT_ID",
        "SLACK_CLIENT_SECRET",
        "SLACK_API_URL",
        "DATABASE_URL",
        "PORT",
        "LOG_LEVEL",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir("/")


def test_settings_default_to_slack_and_a_local_sqlite_file(monkeypatch: pytest.MonkeyPatch) -> None:
    _clean_env(monkeypatch)
    settings = load_settings()
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.database_url == "sqlite+aiosqlite:///kaizen.db"
    assert settings.port == 3000


def test_a_malformed_token_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    _clean_env(monkeypatch)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "not-a-token")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith("SLACK_BOT_TOKEN is not valid")
    assert "not-a-token" not in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PORT", "eighty"),
        ("DATABASE_URL", "mysql://x"),
        ("SLACK_API_URL", "slack.com"),
        ("LOG_LEVEL", "LOUD"),
    ],
)
def test_malformed_values_name_their_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    _clean_env(monkeypatch)
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=rf"^{name} is not valid"):
        load_settings()


def test_oauth_needs_both_halves(monkeypatch: pytest.MonkeyPatch) -> None:
    _clean_env(monkeypatch)
    monkeypatch.setenv("SLACK_CLIENT_ID", "123.456")
    with pytest.raises(ConfigError, match="SLACK_CLIENT_SECRET"):
        load_settings()


def test_run_without_a_signing_secret_stops_with_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    _clean_env(monkeypatch)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    with pytest.raises(ConfigError, match=r"^SLACK_SIGNING_SECRET is not set"):
        load_settings().require_for_run()


def test_tokens_do_not_show_in_the_settings_repr() -> None:
    settings = Settings(slack_bot_token="xoxb-secret-value", _env_file=None)  # type: ignore[arg-type,call-arg]
    assert "xoxb-secret-value" not in repr(settings)


def test_kaizen_bot_run_prints_one_line_and_exits_2_without_configuration(tmp_path: object) -> None:
    env = {"PATH": "/usr/bin:/bin", "SLACK_BOT_TOKEN": "xoxb-1"}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        env=env,
        cwd=str(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "kaizen-bot: SLACK_SIGNING_SECRET is not set: set it to the Signing Secret "
        "from the app's Basic Information page."
    ]
