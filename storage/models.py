"""The schema: every table carries its workspace, and every query filters on it.

A *workspace* is one Slack team (with its Enterprise Grid id when it has one). A *channel* is a
team in the product's sense; channel ids are Slack's, stored as text beside the workspace id.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from storage.types import UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SLACK_ID = 32


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _workspace_fk() -> Mapped[int]:
    return mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=False)


class Workspace(Base):
    __tablename__ = "workspaces"
    __table_args__ = (UniqueConstraint("enterprise_id", "team_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[str] = mapped_column(String(SLACK_ID), default="")
    team_id: Mapped[str] = mapped_column(String(SLACK_ID))
    name: Mapped[str] = mapped_column(String(200), default="")
    next_theme_number: Mapped[int] = mapped_column(Integer, default=1)
    reporter_secret: Mapped[str] = mapped_column(String(64), default="")
    """Random per workspace: keys the reporter hashes, so no token rotation orphans a log."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    uninstalled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    """Set when Slack says the app left the workspace; cleared when it is back."""


class Installation(Base):
    """A bot token for one workspace, stored by the OAuth flow."""

    __tablename__ = "installations"
    __table_args__ = (UniqueConstraint("workspace_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = _workspace_fk()
    app_id: Mapped[str] = mapped_column(String(SLACK_ID), default="")
    bot_token: Mapped[str] = mapped_column(Text)
    """Sealed with ``KAIZEN_SECRET_KEY`` when one is set (see storage.secrets)."""
    bot_id: Mapped[str] = mapped_column(String(SLACK_ID), default="")
    bot_user_id: Mapped[str] = mapped_column(String(SLACK_ID), default="")
    bot_scopes: Mapped[str] = mapped_column(Text, default="")
    installer_user_id: Mapped[str] = mapped_column(String(SLACK_ID), default="")
    installed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class OAuthState(Base):
    __tablename__ = "oauth_states"

    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[str] = mapped_column(String(128), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ChannelSettings(Base):
    __tablename__ = "channel_settings"
    __table_args__ = (UniqueConstraint("workspace_id", "channel_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = _workspace_fk()
    channel_id: Mapped[str] = mapped_column(String(SLACK_ID))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    digest_weekday: Mapped[int] = mapped_column(Integer, default=0)
    digest_time: Mapped[str] = mapped_column(String(5), default="09:00")
    digest_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    vote_emoji: Mapped[str] = mapped_column(String(100), default="+1")
    waste_emoji: Mapped[str] = mapped_column(String(100), default="wastebasket")
    vote_limit: Mapped[int | None] = mapped_column(Integer, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Step(Base):
    """A process box of a channel's current or future value stream map."""

    __tablename__ = "vsm_steps"
    __table_args__ = (UniqueConstraint("workspace_id", "channel_id", "state", "name_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = _workspace_fk()
    channel_id: Mapped[str] = mapped_column(String(SLACK_ID))
    state: Mapped[str] = mapped_column(String(16), default="current")
    name: Mapped[str] = mapped_column(String(100))
    name_key: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(Integer)
    owner_role: Mapped[str] = mapped_column(String(100), default="")
    process_minutes: Mapped[int] = mapped_column(Integer, default=0)
    wait_minutes: Mapped[int] = mapped_column(Integer, default=0)
    pct_complete_accurate: Mapped[int] = mapped_column(Integer, default=100)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Observation(Base):
    """A logged waste; a wait is a ``waiting`` observation with minutes and usually a step.

    ``reporter_key`` is a keyed hash of the reporter, kept for every log so that its author can
    list and undo it; ``reporter_id`` is kept only when the log is not anonymous.
    """

    __tablename__ = "observations"
    __table_args__ = (
        UniqueConstraint("workspace_id", "reaction_key"),
        Index("ix_observations_scope_created", "workspace_id", "channel_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = _workspace_fk()
    channel_id: Mapped[str] = mapped_column(String(SLACK_ID))
    category: Mapped[str | None] = mapped_column(String(32), nullable=True)
    description: Mapped[str] = mapped_column(Text, default="")
    minutes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    is_wait: Mapped[bool] = mapped_column(Boolean, default=False)
    step_id: Mapped[int | None] = mapped_column(
        ForeignKey("vsm_steps.id", ondelete="SET NULL"), nullable=True
    )
    work_item: Mapped[str] = mapped_column(String(200), default="")
    link: Mapped[str] = mapped_column(String(500), default="")
    source: Mapped[str] = mapped_column(String(16))
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    reporter_id: Mapped[str | None] = mapped_column(String(SLACK_ID), nullable=True)
    reporter_key: Mapped[str] = mapped_column(String(64), index=True)
    message_ts: Mapped[str | None] = mapped_column(String(32), nullable=True)
    reaction_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class Theme(Base):
    """A kaizen theme (improvement idea) with its optional hypothesis."""

    __tablename__ = "themes"
    __table_args__ = (
        UniqueConstraint("workspace_id", "number"),
        Index("ix_themes_scope_status", "workspace_id", "channel_id", "status"),
        Index("ix_themes_message", "workspace_id", "message_channel", "message_ts"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = _workspace_fk()
    channel_id: Mapped[str] = mapped_column(String(SLACK_ID))
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(150))
    problem: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str | None] = mapped_column(String(32), nullable=True)
    step_id: Mapped[int | None] = mapped_column(
        ForeignKey("vsm_steps.id", ondelete="SET NULL"), nullable=True
    )
    status: Mapped[str] = mapped_column(String(16), default="proposed")
    author_id: Mapped[str] = mapped_column(String(SLACK_ID))
    message_channel: Mapped[str | None] = mapped_column(String(SLACK_ID), nullable=True)
    message_ts: Mapped[str | None] = mapped_column(String(32), nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    votes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """How many votes the theme has: kept by the database's triggers on ``votes`` (migration
    theme_vote_counts), never written here. Read it as a column of a query, not off a loaded
    row, which a vote stored since in the same session leaves behind."""
    hyp_metric: Mapped[str | None] = mapped_column(String(32), nullable=True)
    hyp_change: Mapped[str] = mapped_column(Text, default="")
    hyp_baseline: Mapped[float | None] = mapped_column(Float, nullable=True)
    hyp_target: Mapped[float | None] = mapped_column(Float, nullable=True)
    hyp_check_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    hyp_step_id: Mapped[int | None] = mapped_column(
        ForeignKey("vsm_steps.id", ondelete="SET NULL"), nullable=True
    )
    hyp_category: Mapped[str | None] = mapped_column(String(32), nullable=True)
    hyp_verdict: Mapped[str | None] = mapped_column(String(16), nullable=True)
    hyp_measured: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ThemeEvent(Base):
    """Who moved a theme, from which status to which, and when."""

    __tablename__ = "theme_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = _workspace_fk()
    theme_id: Mapped[int] = mapped_column(ForeignKey("themes.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[str] = mapped_column(String(SLACK_ID))
    from_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    to_status: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class Vote(Base):
    __tablename__ = "votes"
    __table_args__ = (UniqueConstraint("theme_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = _workspace_fk()
    theme_id: Mapped[int] = mapped_column(ForeignKey("themes.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(SLACK_ID))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ActionItem(Base):
    __tablename__ = "action_items"
    __table_args__ = (Index("ix_action_items_owner", "workspace_id", "owner_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = _workspace_fk()
    channel_id: Mapped[str] = mapped_column(String(SLACK_ID))
    theme_id: Mapped[int | None] = mapped_column(
        ForeignKey("themes.id", ondelete="CASCADE"), nullable=True
    )
    retro_id: Mapped[int | None] = mapped_column(
        ForeignKey("retros.id", ondelete="CASCADE"), nullable=True
    )
    text: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[str] = mapped_column(String(SLACK_ID))
    due_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_by: Mapped[str] = mapped_column(String(SLACK_ID))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_reminded_on: Mapped[date | None] = mapped_column(Date, nullable=True)


class Retro(Base):
    __tablename__ = "retros"
    __table_args__ = (Index("ix_retros_workspace_id_channel_id", "workspace_id", "channel_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = _workspace_fk()
    channel_id: Mapped[str] = mapped_column(String(SLACK_ID))
    title: Mapped[str] = mapped_column(String(150))
    template: Mapped[str] = mapped_column(String(32))
    phase: Mapped[str] = mapped_column(String(16), default="collect")
    facilitator_id: Mapped[str] = mapped_column(String(SLACK_ID))
    anonymous: Mapped[bool] = mapped_column(Boolean, default=True)
    votes_per_person: Mapped[int] = mapped_column(Integer, default=3)
    collect_until: Mapped[datetime] = mapped_column(UTCDateTime)
    vote_until: Mapped[datetime] = mapped_column(UTCDateTime)
    message_ts: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    nudged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    """When "Nudge the others" went out: once per retro."""
    stalled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    """When a phase change could not be posted (the bot left the channel); cleared once it is."""


class RetroNote(Base):
    __tablename__ = "retro_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = _workspace_fk()
    retro_id: Mapped[int] = mapped_column(ForeignKey("retros.id", ondelete="CASCADE"), index=True)
    author_key: Mapped[str] = mapped_column(String(64))
    author_id: Mapped[str | None] = mapped_column(String(SLACK_ID), nullable=True)
    column: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    message_ts: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RetroVote(Base):
    __tablename__ = "retro_votes"
    __table_args__ = (UniqueConstraint("note_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = _workspace_fk()
    note_id: Mapped[int] = mapped_column(ForeignKey("retro_notes.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(SLACK_ID))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Subscription(Base):
    """A user who wants a channel's weekly digest by DM."""

    __tablename__ = "subscriptions"
    __table_args__ = (UniqueConstraint("workspace_id", "channel_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = _workspace_fk()
    channel_id: Mapped[str] = mapped_column(String(SLACK_ID))
    user_id: Mapped[str] = mapped_column(String(SLACK_ID))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Delivery(Base):
    """Slack deliveries already handled (event ids, trigger ids), so retries write nothing twice."""

    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("workspace_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = _workspace_fk()
    key: Mapped[str] = mapped_column(String(255))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class JobRun(Base):
    """One scheduled post per period: the unique key makes it exactly-once across processes."""

    __tablename__ = "job_runs"
    __table_args__ = (UniqueConstraint("job", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default="running")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    detail: Mapped[str] = mapped_column(Text, default="")
