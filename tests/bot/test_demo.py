"""``kaizen-bot demo`` plays the whole story and writes what it promises."""

from __future__ import annotations

import asyncio
import csv
import io
from pathlib import Path

from bot.demo import run_demo


def test_the_demo_plays_to_the_end_and_writes_its_files(tmp_path: Path) -> None:
    lines: list[str] = []
    assert asyncio.run(run_demo(tmp_path, echo=False, lines=lines)) == 0
    for name in ("value-stream-current.png", "value-stream-future.png", "value-stream-compare.png"):
        assert (tmp_path / name).read_bytes().startswith(b"\x89PNG\r\n\x1a\n"), name
    [export] = list(tmp_path.glob("kaizen-*.csv"))
    rows = list(csv.DictReader(io.StringIO(export.read_text())))
    records = {row["record"] for row in rows}
    assert {"waste", "wait", "theme", "vote", "action"} <= records

    # The retro on the waste week ends in a theme made from its top note.
    shown = "\n".join(lines)
    start = shown.index("An async retro")
    retro = shown[start : shown.index("━━ ", start)]
    assert retro.index("the notes are revealed") < retro.index("The shared test environment")
    assert "1. *5 votes* · _Waiting_ · The shared test environment" in retro
    assert "anonymous notes" in retro and "<@UTINA>" not in retro
    assert "K-4 · A test environment per branch, on demand" in retro


def test_the_demo_posts_the_digest_chart_and_judges_k1(tmp_path: Path) -> None:
    import sqlite3

    assert asyncio.run(run_demo(tmp_path, echo=False)) == 0
    assert (tmp_path / "flow-digest.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    with sqlite3.connect(tmp_path / "kaizen-demo.db") as db:
        verdict = db.execute(
            "SELECT hyp_verdict, hyp_measured FROM themes WHERE number = 1"
        ).fetchone()
    assert verdict == ("met", 300.0)
