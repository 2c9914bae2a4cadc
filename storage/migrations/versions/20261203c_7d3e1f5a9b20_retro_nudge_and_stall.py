"""Retros remember their nudge and a stalled phase change

"Nudge the others" goes out once per retro, so the retro records when it went. A phase change
the bot could not post (it was removed from the channel) is kept back and the facilitator told
once, so the retro records when that happened too.

Revision ID: 7d3e1f5a9b20
Revises: 5c1e7d2b9f40
Create Date: 2026-12-03 10:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "7d3e1f5a9b20"
down_revision: str | None = "5c1e7d2b9f40"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("retros", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("nudged_at", storage.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("stalled_at", storage.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(
            batch_op.f("ix_retros_workspace_id_channel_id"), ["workspace_id", "channel_id"]
        )
    with op.batch_alter_table("retro_notes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_retro_notes_message_ts"), ["message_ts"])


def downgrade() -> None:
    with op.batch_alter_table("retro_notes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_retro_notes_message_ts"))
    with op.batch_alter_table("retros", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_retros_workspace_id_channel_id"))
        batch_op.drop_column("stalled_at")
        batch_op.drop_column("nudged_at")
