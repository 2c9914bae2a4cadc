"""Multi-workspace OAuth: bot tokens per workspace and one-time OAuth states, in our database.

Implements slack_sdk's async installation and state store interfaces so Bolt's own OAuth flow
and authorisation run on the same database as everything else (and so on PostgreSQL when the
app is scaled out).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.models.installation import Installation as SlackInstallation
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database
from storage.models import Installation, OAuthState, Workspace
from storage.secrets import TokenSealer, TokenUnreadable
from storage.workspaces import find_workspace, get_or_add_workspace

logger = logging.getLogger(__name__)


def _utc_now() -> datetime:
    return datetime.now(UTC)


NO_SEALING = TokenSealer(None)


def _open(sealer: TokenSealer, stored: str, workspace_id: int) -> str | None:
    try:
        return sealer.open(stored)
    except TokenUnreadable as error:
        logger.warning(
            "oauth.token_unreadable", extra={"workspace": workspace_id, "reason": str(error)}
        )
        return None


async def get_bot_token(
    session: AsyncSession, *, workspace_id: int, sealer: TokenSealer = NO_SEALING
) -> str | None:
    """The bot token a workspace installed the app with, or None when it has none (or it is
    sealed with a key this process does not have)."""
    stored = await session.scalar(
        select(Installation.bot_token).where(Installation.workspace_id == workspace_id)
    )
    return _open(sealer, stored, workspace_id) if stored else None


async def seal_plain_tokens(session: AsyncSession, *, sealer: TokenSealer) -> int:
    """Seal the tokens stored before a key was set; how many. Nothing without a key."""
    if not sealer.seals:
        return 0
    rows = await session.scalars(
        select(Installation).where(Installation.bot_token.not_like("fernet:%"))
    )
    sealed = 0
    for row in rows:
        row.bot_token = sealer.seal(row.bot_token)
        sealed += 1
    await session.flush()
    return sealed


class DatabaseInstallationStore(AsyncInstallationStore):
    """Bot installations only: kaizen-bot acts as its bot user, never as a person."""

    def __init__(
        self,
        db: Database,
        clock: Callable[[], datetime] = _utc_now,
        sealer: TokenSealer = NO_SEALING,
    ) -> None:
        self._db = db
        self._clock = clock
        self._sealer = sealer

    @property
    def logger(self) -> logging.Logger:
        return logger

    async def async_save(self, installation: SlackInstallation) -> None:
        await self.async_save_bot(installation.to_bot())

    async def async_save_bot(self, bot: Bot) -> None:
        now = self._clock()
        async with self._db.transaction() as session:
            workspace_id = await get_or_add_workspace(
                session, team_id=bot.team_id or "", enterprise_id=bot.enterprise_id, now=now
            )
            if bot.team_name:
                workspace = await session.get(Workspace, workspace_id)
                if workspace is not None:
                    workspace.name = bot.team_name
            row = await session.scalar(
                select(Installation).where(Installation.workspace_id == workspace_id)
            )
            if row is None:
                row = Installation(workspace_id=workspace_id)
                session.add(row)
            row.app_id = bot.app_id or ""
            row.bot_token = self._sealer.seal(bot.bot_token)
            row.bot_id = bot.bot_id
            row.bot_user_id = bot.bot_user_id
            row.bot_scopes = ",".join(bot.bot_scopes or [])
            row.installer_user_id = ""
            row.installed_at = now
        logger.info("oauth.installed", extra={"team": bot.team_id})

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        async with self._db.transaction() as session:
            workspace_id = await find_workspace(
                session, team_id=team_id or "", enterprise_id=enterprise_id
            )
            if workspace_id is None:
                return None
            row = await session.scalar(
                select(Installation).where(Installation.workspace_id == workspace_id)
            )
        if row is None:
            return None
        token = _open(self._sealer, row.bot_token, row.workspace_id)
        if token is None:
            return None
        return Bot(
            app_id=row.app_id or None,
            enterprise_id=enterprise_id,
            team_id=team_id,
            bot_token=token,
            bot_id=row.bot_id,
            bot_user_id=row.bot_user_id,
            bot_scopes=row.bot_scopes,
            installed_at=row.installed_at.timestamp(),
        )

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> SlackInstallation | None:
        bot = await self.async_find_bot(enterprise_id=enterprise_id, team_id=team_id)
        if bot is None:
            return None
        return SlackInstallation(
            app_id=bot.app_id,
            enterprise_id=enterprise_id,
            team_id=team_id,
            bot_token=bot.bot_token,
            bot_id=bot.bot_id,
            bot_user_id=bot.bot_user_id,
            bot_scopes=bot.bot_scopes,
            user_id=user_id or "",
            installed_at=bot.installed_at,
        )

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        async with self._db.transaction() as session:
            workspace_id = await find_workspace(
                session, team_id=team_id or "", enterprise_id=enterprise_id
            )
            if workspace_id is not None:
                await session.execute(
                    delete(Installation).where(Installation.workspace_id == workspace_id)
                )

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        if user_id is None:
            await self.async_delete_bot(enterprise_id=enterprise_id, team_id=team_id)

    async def async_delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await self.async_delete_bot(enterprise_id=enterprise_id, team_id=team_id)


class DatabaseStateStore(AsyncOAuthStateStore):
    """One-time OAuth ``state`` values that expire, so a callback cannot be replayed."""

    def __init__(
        self,
        db: Database,
        *,
        expires_in: timedelta = timedelta(minutes=10),
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self._db = db
        self._expires_in = expires_in
        self._clock = clock

    @property
    def logger(self) -> logging.Logger:
        return logger

    async def async_issue(self, *args: object, **kwargs: object) -> str:
        state = secrets.token_urlsafe(32)
        async with self._db.transaction() as session:
            session.add(OAuthState(state=state, expires_at=self._clock() + self._expires_in))
        return state

    async def async_consume(self, state: str) -> bool:
        async with self._db.transaction() as session:
            result = await session.execute(
                delete(OAuthState)
                .where(OAuthState.state == state, OAuthState.expires_at > self._clock())
                .returning(OAuthState.id)
            )
            consumed = result.first() is not None
            await session.execute(delete(OAuthState).where(OAuthState.expires_at <= self._clock()))
        return consumed
