"""Configuration, read from the environment (and an optional ``.env``) in one place only.

Every other module receives a ``Settings`` object; nothing else reads ``os.environ``.
"""

from __future__ import annotations

import logging
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_API_URL = "https://slack.com/api/"
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///kaizen.db"

_HINTS = {
    "SLACK_BOT_TOKEN": "the Bot User OAuth Token (xoxb-…) from the app's OAuth & Permissions page",
    "SLACK_SIGNING_SECRET": "the Signing Secret from the app's Basic Information page",
    "SLACK_APP_TOKEN": "an app-level token (xapp-…) with connections:write, for Socket Mode",
    "SLACK_CLIENT_ID": "the Client ID from Basic Information, for multi-workspace OAuth",
    "SLACK_CLIENT_SECRET": "the Client Secret from Basic Information, for multi-workspace OAuth",
    "SLACK_API_URL": "a base URL such as https://slack.com/api/",
    "DATABASE_URL": "sqlite+aiosqlite:///kaizen.db or postgresql+asyncpg://user@host/db",
    "PORT": "a TCP port number such as 3000",
    "LOG_LEVEL": "DEBUG, INFO, WARNING or ERROR",
    "KAIZEN_SECRET_KEY": (
        "a key from `python -c 'from cryptography.fernet import Fernet; "
        "print(Fernet.generate_key().decode())'` (several, comma-separated, to rotate)"
    ),
}


class ConfigError(Exception):
    """Configuration that cannot start the bot; the message is one line for the operator."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_client_id: str | None = None
    slack_client_secret: SecretStr | None = None
    slack_api_url: str = DEFAULT_API_URL
    database_url: str = DEFAULT_DATABASE_URL
    port: int = Field(default=3000, ge=1, le=65535)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    slack_scopes: str = ""
    kaizen_secret_key: SecretStr | None = None
    """Fernet key(s) sealing stored OAuth bot tokens; the first seals, any opens."""

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("slack_api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value if value.endswith("/") else value + "/"

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value

    @field_validator("kaizen_secret_key")
    @classmethod
    def _secret_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        from storage.secrets import TokenSealer

        TokenSealer.from_keys(value.get_secret_value())  # raises ValueError when malformed
        return value

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xoxb-"):
            raise ValueError("must be a bot token starting with xoxb-")
        return value

    @field_validator("slack_app_token")
    @classmethod
    def _app_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xapp-"):
            raise ValueError("must be an app-level token starting with xapp-")
        return value

    @model_validator(mode="after")
    def _oauth_pair(self) -> Settings:
        if bool(self.slack_client_id) != bool(self.slack_client_secret):
            missing = "SLACK_CLIENT_SECRET" if self.slack_client_id else "SLACK_CLIENT_ID"
            raise ValueError(f"{missing} is needed too: OAuth takes both the id and the secret")
        return self

    @property
    def oauth_enabled(self) -> bool:
        return bool(self.slack_client_id and self.slack_client_secret)

    @property
    def socket_mode(self) -> bool:
        return self.slack_app_token is not None

    @property
    def log_level_number(self) -> int:
        return int(logging.getLevelName(self.log_level))

    def require_for_run(self) -> None:
        """Check what ``kaizen-bot run`` needs beyond what every command needs."""
        if self.slack_signing_secret is None and not self.socket_mode:
            raise ConfigError(_missing("SLACK_SIGNING_SECRET"))
        if self.slack_bot_token is None and not self.oauth_enabled:
            raise ConfigError(_missing("SLACK_BOT_TOKEN"))


def _missing(name: str) -> str:
    return f"{name} is not set: set it to {_HINTS[name]}."


def load_settings(**overrides: object) -> Settings:
    """Read the settings, turning validation errors into one ``ConfigError`` line."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        error = exc.errors()[0]
        name = str(error["loc"][0]).upper() if error["loc"] else "configuration"
        reason = str(error["msg"]).removeprefix("Value error, ")
        hint = _HINTS.get(name)
        suffix = f": set it to {hint}" if hint else ""
        raise ConfigError(f"{name} is not valid ({reason}){suffix}.") from None
