"""Column types shared by the models and the migrations."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


def stored_utc(value: datetime | None, *, keep_offset: bool) -> datetime | None:
    """An aware ``value`` in UTC, as ``UTCDateTime`` stores it: without its offset where the
    database keeps none (``keep_offset=False``). A naive datetime is refused."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime given; pass an aware UTC datetime")
    value = value.astimezone(UTC)
    return value if keep_offset else value.replace(tzinfo=None)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on every backend (SQLite keeps no offset of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return stored_utc(value, keep_offset=dialect.name != "sqlite")

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
