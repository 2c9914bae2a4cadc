"""The retro's Block Kit: the announcement links only safe links and never carries a note."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from bot.domain.observations import LoggedWaste, Source
from bot.domain.retro import Lookback, Retro, RetroPhase, RetroTemplate, costliest, waste_totals
from bot.views.retro import build_announcement

NOW = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)


def waste(waste_id: int, link: str) -> LoggedWaste:
    return LoggedWaste(
        waste_id, "C1", "waiting", f"wait {waste_id}", 60 * waste_id, True, None, None, "",
        link, Source.MODAL, False, None, NOW,
    )  # fmt: skip


def test_the_costliest_logs_link_only_where_the_link_is_safe() -> None:
    logs = [waste(1, "https://ci.example/run/7"), waste(2, "https://x|<!channel>"), waste(3, "")]
    retro = Retro(
        1, "C1", "Retro", RetroTemplate.DOWNTIME, RetroPhase.COLLECT, "U1", True, 3,
        NOW + timedelta(days=1), NOW + timedelta(days=2), None, NOW,
    )  # fmt: skip
    lookback = Lookback(
        NOW - timedelta(days=14), NOW, True, waste_totals(logs, []), costliest(logs), (), (), ()
    )
    shown = json.dumps(build_announcement(retro, lookback, notes=2, people=1, vote_emoji="+1"))
    assert "<https://ci.example/run/7|wait 1>" in shown
    assert "<!channel>" not in shown and "wait 2" in shown
    assert "2 notes from 1 person so far" in shown
