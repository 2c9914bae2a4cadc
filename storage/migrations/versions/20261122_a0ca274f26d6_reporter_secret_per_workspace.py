"""A random reporter secret per workspace

Reporter hashes were keyed by the signing secret, so rotating it (or moving to Socket Mode)
cut every author off from listing and undoing their own logs. Each workspace now gets its own
random key, stored with it.

Revision ID: a0ca274f26d6
Revises: a42807e58596
Create Date: 2026-11-22 04:54:44.301154
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a0ca274f26d6"
down_revision: str | None = "a42807e58596"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("workspaces", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reporter_secret", sa.String(length=64), nullable=False, server_default="")
        )
    workspaces = sa.table("workspaces", sa.column("id", sa.Integer), sa.column("reporter_secret"))
    connection = op.get_bind()
    for (workspace_id,) in connection.execute(sa.select(workspaces.c.id)).all():
        connection.execute(
            workspaces.update()
            .where(workspaces.c.id == workspace_id)
            .values(reporter_secret=secrets.token_hex(32))
        )
    with op.batch_alter_table("workspaces", schema=None) as batch_op:
        batch_op.alter_column("reporter_secret", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("workspaces", schema=None) as batch_op:
        batch_op.drop_column("reporter_secret")
