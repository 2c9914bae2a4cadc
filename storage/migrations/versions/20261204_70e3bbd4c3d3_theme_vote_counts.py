"""Themes keep their vote count, and the database keeps it right

Every read of a theme counted its votes, and a vote's batch read its themes: with a few
thousand votes on a theme, counting them took longer than the rest of the vote. The count now
lives on the theme, and triggers on ``votes`` add one for each vote stored and take one off
for each vote deleted, whatever deletes it (a vote taken back, a vote over the limit, a
workspace purged), on SQLite and PostgreSQL alike. A later migration that recreates the
``votes`` table on SQLite (a batch operation) must create these triggers again.

Revision ID: 70e3bbd4c3d3
Revises: 7d3e1f5a9b20
Create Date: 2026-12-04 00:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "70e3bbd4c3d3"
down_revision: str | None = "7d3e1f5a9b20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_POSTGRESQL = [
    """
    CREATE FUNCTION kaizen_count_votes() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            UPDATE themes SET votes = votes + 1 WHERE id = NEW.theme_id;
            RETURN NEW;
        END IF;
        UPDATE themes SET votes = votes - 1 WHERE id = OLD.theme_id;
        RETURN OLD;
    END
    $$
    """,
    "CREATE TRIGGER votes_counted AFTER INSERT OR DELETE ON votes "
    "FOR EACH ROW EXECUTE FUNCTION kaizen_count_votes()",
]
_SQLITE = [
    "CREATE TRIGGER votes_counted_in AFTER INSERT ON votes "
    "BEGIN UPDATE themes SET votes = votes + 1 WHERE id = NEW.theme_id; END",
    "CREATE TRIGGER votes_counted_out AFTER DELETE ON votes "
    "BEGIN UPDATE themes SET votes = votes - 1 WHERE id = OLD.theme_id; END",
]


def upgrade() -> None:
    op.add_column("themes", sa.Column("votes", sa.Integer(), server_default="0", nullable=False))
    op.execute(
        "UPDATE themes SET votes = (SELECT count(*) FROM votes WHERE votes.theme_id = themes.id)"
    )
    postgresql = op.get_bind().dialect.name == "postgresql"
    for statement in _POSTGRESQL if postgresql else _SQLITE:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER votes_counted ON votes")
        op.execute("DROP FUNCTION kaizen_count_votes()")
    else:
        op.execute("DROP TRIGGER votes_counted_in")
        op.execute("DROP TRIGGER votes_counted_out")
    # Not a batch operation: on SQLite that copies the table and drops the old one, and the
    # drop deletes the votes, action items and events of every theme (ON DELETE CASCADE).
    op.drop_column("themes", "votes")
