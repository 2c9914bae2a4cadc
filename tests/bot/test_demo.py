"""``kaizen-bot demo`` plays the whole story and writes what it promises."""

from __future__ import annotations

import asyncio
import csv
import io
from pathlib import Path

from bot.demo import run_demo


def test_the_demo_plays_to_the_end_and_writes_its_files(tmp_path: Path) -> None:
    assert asyncio.run(run_demo(tmp_path, echo=False)) == 0
    for name in ("value-stream-current.png", "value-stream-future.png", "value-stream-compare.png"):
        assert (tmp_path / name).read_bytes().startswith(b"\x89PNG\r\n\x1a\n"), name
    [export] = list(tmp_path.glob("kaizen-*.csv"))
    rows = list(csv.DictReader(io.StringIO(export.read_text())))
    records = {row["record"] for row in rows}
    assert {"waste", "wait", "theme", "vote", "action"} <= records
