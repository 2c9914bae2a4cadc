"""Uninstalled workspaces, and room for bot tokens sealed at rest

``workspaces.uninstalled_at`` is set when Slack says the app was uninstalled or its bot token
revoked, and cleared when the workspace installs again: nothing scheduled posts there while it
is set. ``installations.bot_token`` becomes text, as a token encrypted with
``KAIZEN_SECRET_KEY`` is longer than the token itself.

Revision ID: 5c1e7d2b9f40
Revises: a0ca274f26d6
Create Date: 2026-12-03 10:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision: str = "5c1e7d2b9f40"
down_revision: str | None = "a0ca274f26d6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("workspaces", schema=None) as batch_op:
        batch_op.add_column(sa.Column("uninstalled_at", UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table("installations", schema=None) as batch_op:
        batch_op.alter_column(
            "bot_token", existing_type=sa.String(length=255), type_=sa.Text(), nullable=False
        )


def downgrade() -> None:
    with op.batch_alter_table("installations", schema=None) as batch_op:
        batch_op.alter_column(
            "bot_token", existing_type=sa.Text(), type_=sa.String(length=255), nullable=False
        )
    with op.batch_alter_table("workspaces", schema=None) as batch_op:
        batch_op.drop_column("uninstalled_at")
