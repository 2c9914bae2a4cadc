"""An online copy of the SQLite database, taken with SQLite's backup API.

The backup API copies the pages under a read transaction, so the copy is one consistent
state of the database even while the app keeps writing (in WAL mode writers are not blocked).
The copy is written beside its destination first and renamed into place only once it is
complete and checked, so a failed backup leaves nothing behind.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path


class BackupError(Exception):
    """The copy could not be made; the message is one line for the operator."""


def backup_sqlite(source: Path, destination: Path) -> int:
    """Copy the database at ``source`` to ``destination``; returns the copy's size in bytes."""
    partial = destination.with_name(f".{destination.name}.partial")
    # mode=ro: a missing source is an error here rather than a new, empty database.
    src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True, timeout=15)
    try:
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst)
            (verdict,) = dst.execute("PRAGMA quick_check").fetchone()
            if verdict != "ok":
                raise BackupError(f"the copy of {source} failed its check ({verdict})")
            # A self-contained file: the copy needs no -wal file beside it.
            dst.execute("PRAGMA journal_mode=DELETE")
        finally:
            dst.close()
        os.replace(partial, destination)
    except sqlite3.Error as exc:
        raise BackupError(f"cannot copy {source}: {exc}") from None
    finally:
        src.close()
        partial.unlink(missing_ok=True)
    return destination.stat().st_size
