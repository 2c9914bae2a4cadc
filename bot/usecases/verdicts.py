"""Hypothesis verdicts: on a theme's check date, measure its metric again and say how it went.

The measurement looks at the same kind of window as the baseline did (``BASELINE_WINDOW``
before the check date's start in the channel's time zone; the map metrics as the map stands).
The verdict is posted in the theme's thread, then recorded on the theme, where ``/kaizen show``,
App Home, the export and the digest read it. Each theme's verdict is claimed once (job
``verdict``); a failed post releases the claim and records nothing, so a later tick retries.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Deps
from bot.domain.hypotheses import Hypothesis, judge, measure_totals, measurement_window
from bot.domain.kaizen import Theme
from bot.domain.schedule import zone
from bot.usecases.claims import claim, finish
from bot.usecases.clients import client_for_workspace
from bot.usecases.themes import refresh_theme_message
from bot.usecases.work import Origin
from bot.views.digest import build_verdict_message
from storage import jobs as runs
from storage.channels import get_channel_config
from storage.kaizen import list_due_hypotheses, set_verdict
from storage.vsm import list_steps
from storage.waste import get_logged_totals
from storage.workspaces import Scope, get_workspace_origin

logger = logging.getLogger(__name__)

JOB_VERDICT = "verdict"


@dataclass
class VerdictRun:
    judged: list[str] = field(default_factory=list)
    """``K-n: verdict`` per theme judged."""
    failed: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        judged = ", ".join(self.judged) or "none due"
        return f"judged: {judged}; {len(self.failed)} failed to post"


async def measure_theme(deps: Deps, scope: Scope, theme: Theme, check_at: datetime) -> Hypothesis:
    """The theme's hypothesis with its measurement at ``check_at`` and its verdict."""
    hyp = theme.hypothesis
    assert hyp is not None
    start, end = measurement_window(check_at)
    # The same totals, added up in SQL, as the baseline was measured with.
    async with deps.db.transaction() as session:
        steps = await list_steps(session, scope=scope)
        totals = await get_logged_totals(
            session, scope=scope, start=start, end=end, step_id=hyp.step_id, category=hyp.category
        )
    measured = measure_totals(hyp.metric, steps=steps, totals=totals, step_id=hyp.step_id)
    return replace(hyp, measured=measured, verdict=judge(hyp, measured))


async def run_due_verdicts(deps: Deps, now: datetime) -> VerdictRun:
    async with deps.db.transaction() as session:
        due = await list_due_hypotheses(session, on_or_before=(now + timedelta(hours=14)).date())
    result = VerdictRun()
    clients: dict[int, AsyncWebClient | None] = {}
    for workspace, theme in due:
        if workspace not in clients:
            clients[workspace] = await client_for_workspace(deps, workspace)
        client = clients[workspace]
        if client is not None:
            await _judge(deps, client, Scope(workspace, theme.channel_id), theme, now, result)
    return result


async def _judge(
    deps: Deps,
    client: AsyncWebClient,
    scope: Scope,
    theme: Theme,
    now: datetime,
    result: VerdictRun,
) -> None:
    assert theme.hypothesis is not None
    async with deps.db.transaction() as session:
        config = await get_channel_config(session, scope=scope)
    check_at = datetime.combine(theme.hypothesis.check_date, time(0), tzinfo=zone(config.timezone))
    if now < check_at:
        return
    key = f"{scope.workspace_id}:{theme.id}"
    if not await claim(deps, JOB_VERDICT, key):
        return
    judged = replace(theme, hypothesis=await measure_theme(deps, scope, theme, check_at))
    message = build_verdict_message(judged)
    try:
        await client.chat_postMessage(
            channel=theme.message_channel or theme.channel_id,
            thread_ts=theme.message_ts if theme.message_channel else None,
            **message,
        )
    except SlackApiError as exc:
        error = str(exc.response.get("error") or exc.response.status_code)
        logger.warning("verdict.post_failed", extra={"channel": scope.channel_id, "error": error})
        await finish(deps, JOB_VERDICT, key, runs.FAILED, f"Slack answered {error}")
        result.failed.append(theme.ref)
        return
    hyp = judged.hypothesis
    assert hyp is not None and hyp.verdict is not None
    async with deps.db.transaction() as session:
        await set_verdict(
            session,
            workspace_id=scope.workspace_id,
            theme_id=theme.id,
            verdict=hyp.verdict.value,
            measured=hyp.measured,
            now=deps.now(),
        )
    await finish(deps, JOB_VERDICT, key, runs.DONE, f"{theme.ref}: {hyp.verdict.value}")
    async with deps.db.transaction() as session:
        origin = await get_workspace_origin(session, workspace_id=scope.workspace_id)
    if origin is not None:
        # The theme's own message shows the verdict under its hypothesis from now on.
        await refresh_theme_message(client, deps, Origin(*origin), theme.id)
    result.judged.append(f"{theme.ref}: {hyp.verdict.value}")
    logger.info("verdict.posted", extra={"channel": scope.channel_id, "theme": theme.ref})
