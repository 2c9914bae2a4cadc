"""The CSV of a channel's or workspace's data: logs, themes, votes, action items and retros.

One table with a ``record`` column, so a spreadsheet can filter by kind; anonymous logs and
notes of anonymous retros have no author, as everywhere else.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

from bot.domain.kaizen import KaizenExport
from bot.domain.themes import format_theme_ref

COLUMNS = (
    "record",
    "channel",
    "id",
    "created_at",
    "who",
    "category",
    "minutes",
    "step",
    "text",
    "status",
    "theme",
    "due_date",
    "votes",
    "hypothesis_metric",
    "hypothesis_baseline",
    "hypothesis_target",
    "hypothesis_check_date",
    "hypothesis_verdict",
    "hypothesis_measured",
    "retro",
)


def _iso(value: datetime | date | None) -> str:
    return value.isoformat() if value is not None else ""


def _number(value: float | int | None) -> str:
    if value is None:
        return ""
    return f"{value:g}" if isinstance(value, float) else str(value)


def build_export_csv(export: KaizenExport) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for waste in export.observations:
        writer.writerow(
            {
                "record": "wait" if waste.is_wait else "waste",
                "channel": waste.channel_id,
                "id": waste.id,
                "created_at": _iso(waste.created_at),
                "who": waste.reporter_id or "",
                "category": waste.category or "",
                "minutes": _number(waste.minutes),
                "step": waste.step_name or "",
                "text": waste.description,
                "theme": "",
            }
        )
    refs = {theme.id: theme.ref for theme in export.themes}
    for theme in export.themes:
        hyp = theme.hypothesis
        writer.writerow(
            {
                "record": "theme",
                "channel": theme.channel_id,
                "id": theme.ref,
                "created_at": _iso(theme.created_at),
                "who": theme.author_id,
                "category": theme.category.value if theme.category else "",
                "step": theme.step_name or "",
                "text": f"{theme.title}\n{theme.problem}".strip(),
                "status": theme.status.value,
                "votes": theme.votes,
                "hypothesis_metric": hyp.metric.value if hyp else "",
                "hypothesis_baseline": _number(hyp.baseline) if hyp else "",
                "hypothesis_target": _number(hyp.target) if hyp else "",
                "hypothesis_check_date": _iso(hyp.check_date) if hyp else "",
                "hypothesis_verdict": hyp.verdict.value if hyp and hyp.verdict else "",
                "hypothesis_measured": _number(hyp.measured) if hyp else "",
            }
        )
    for vote in export.votes:
        writer.writerow(
            {
                "record": "vote",
                "channel": vote.channel_id,
                "created_at": _iso(vote.created_at),
                "who": vote.user_id,
                "theme": format_theme_ref(vote.theme_number),
            }
        )
    for action in export.actions:
        writer.writerow(
            {
                "record": "action",
                "channel": action.channel_id,
                "id": action.id,
                "created_at": _iso(action.created_at),
                "who": action.owner_id,
                "text": action.text,
                "status": action.status.value,
                "theme": refs.get(action.theme_id or 0)
                or (format_theme_ref(action.theme_number) if action.theme_number else ""),
                "due_date": _iso(action.due_date),
            }
        )
    _write_retros(writer, export)
    return out.getvalue()


def _write_retros(writer: csv.DictWriter[str], export: KaizenExport) -> None:
    """Each retro, then its notes once revealed (storage leaves out notes still hidden)."""
    for record in export.retros:
        retro = record.retro
        writer.writerow(
            {
                "record": "retro",
                "channel": retro.channel_id,
                "id": retro.id,
                "created_at": _iso(retro.created_at),
                "who": retro.facilitator_id,
                "category": retro.template.value,
                "text": retro.title,
                "status": retro.phase.value,
                "retro": retro.id,
            }
        )
        for note in record.notes:
            writer.writerow(
                {
                    "record": "retro_note",
                    "channel": retro.channel_id,
                    "id": note.id,
                    "created_at": _iso(note.created_at),
                    "who": "" if retro.anonymous else note.author_id or "",
                    "category": note.column,
                    "text": note.text,
                    "votes": note.votes,
                    "retro": retro.id,
                }
            )
