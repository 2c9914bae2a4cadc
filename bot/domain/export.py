"""A channel's or workspace's data (logs, themes, votes, action items) as CSV or JSON.

One meaning per column: the person who logged a waste is its ``reporter``, who proposed a theme
its ``proposer``, who owns an action its ``owner``, who voted the ``voter``; each id has the
person's name beside it when it is known. A theme's title and problem have columns of their own.
Durations are in minutes with the unit in the column name, and in the app's one readable style
beside them. Anonymous logs have no reporter, as everywhere else. In CSV, one table with a
``record`` column, so a spreadsheet can filter by kind; in JSON, one list per kind.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from bot.domain.durations import format_duration
from bot.domain.hypotheses import TIME_METRICS, Metric
from bot.domain.kaizen import KaizenExport
from bot.domain.themes import format_theme_ref

COLUMNS = (
    "record",
    "channel",
    "id",
    "created_at",
    "reporter_id",
    "reporter_name",
    "proposer_id",
    "proposer_name",
    "owner_id",
    "owner_name",
    "voter_id",
    "voter_name",
    "category",
    "time_lost_minutes",
    "time_lost",
    "step",
    "title",
    "problem",
    "description",
    "status",
    "theme",
    "due_date",
    "votes",
    "hypothesis_metric",
    "hypothesis_unit",
    "hypothesis_baseline",
    "hypothesis_target",
    "hypothesis_check_date",
    "hypothesis_verdict",
    "hypothesis_measured",
    "retro",
    "facilitator_id",
    "facilitator_name",
    "author_id",
    "author_name",
)
FORMATS = ("csv", "json")

Names = Mapping[str, str]
Row = dict[str, Any]


def metric_unit(metric: Metric) -> str:
    """The unit a hypothesis' baseline and target are written in, in the export."""
    if metric in TIME_METRICS:
        return "minutes"
    if metric is Metric.FLOW_EFFICIENCY:
        return "ratio (0 to 1)"
    return "count"


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _person(role: str, user: str | None, names: Names) -> Row:
    return {f"{role}_id": user, f"{role}_name": names.get(user, "") if user else None}


def export_rows(export: KaizenExport, names: Names | None = None) -> dict[str, list[Row]]:
    """The records of each kind, keyed by the ``record`` value; None for "not applicable"."""
    who = names or {}
    wastes = [
        {
            "record": "wait" if waste.is_wait else "waste",
            "channel": waste.channel_id,
            "id": waste.id,
            "created_at": _iso(waste.created_at),
            **_person("reporter", waste.reporter_id, who),
            "category": waste.category,
            "time_lost_minutes": waste.minutes,
            "time_lost": format_duration(waste.minutes) if waste.minutes is not None else None,
            "step": waste.step_name,
            "description": waste.description,
        }
        for waste in export.observations
    ]
    themes = []
    for theme in export.themes:
        hyp = theme.hypothesis
        themes.append(
            {
                "record": "theme",
                "channel": theme.channel_id,
                "id": theme.ref,
                "created_at": _iso(theme.created_at),
                **_person("proposer", theme.author_id, who),
                "category": theme.category.value if theme.category else None,
                "step": theme.step_name,
                "title": theme.title,
                "problem": theme.problem,
                "status": theme.status.value,
                "votes": theme.votes,
                "hypothesis_metric": hyp.metric.value if hyp else None,
                "hypothesis_unit": metric_unit(hyp.metric) if hyp else None,
                "hypothesis_baseline": hyp.baseline if hyp else None,
                "hypothesis_target": hyp.target if hyp else None,
                "hypothesis_check_date": _iso(hyp.check_date) if hyp else None,
                "hypothesis_verdict": hyp.verdict.value if hyp and hyp.verdict else None,
                "hypothesis_measured": hyp.measured if hyp else None,
            }
        )
    votes = [
        {
            "record": "vote",
            "channel": vote.channel_id,
            "created_at": _iso(vote.created_at),
            **_person("voter", vote.user_id, who),
            "theme": format_theme_ref(vote.theme_number),
        }
        for vote in export.votes
    ]
    refs = {theme.id: theme.ref for theme in export.themes}
    actions = [
        {
            "record": "action",
            "channel": action.channel_id,
            "id": action.id,
            "created_at": _iso(action.created_at),
            **_person("owner", action.owner_id, who),
            "description": action.text,
            "status": action.status.value,
            "theme": refs.get(action.theme_id or 0)
            or (format_theme_ref(action.theme_number) if action.theme_number else None),
            "due_date": _iso(action.due_date),
        }
        for action in export.actions
    ]
    return {
        "wastes": wastes,
        "themes": themes,
        "votes": votes,
        "actions": actions,
        "retros": _retro_rows(export, who),
    }


def _retro_rows(export: KaizenExport, who: Names) -> list[Row]:
    """Each retro, then its notes once revealed (storage leaves out notes still hidden)."""
    rows: list[Row] = []
    for record in export.retros:
        retro = record.retro
        rows.append(
            {
                "record": "retro",
                "channel": retro.channel_id,
                "id": retro.id,
                "created_at": _iso(retro.created_at),
                **_person("facilitator", retro.facilitator_id, who),
                "category": retro.template.value,
                "title": retro.title,
                "status": retro.phase.value,
                "retro": retro.id,
            }
        )
        rows += [
            {
                "record": "retro_note",
                "channel": retro.channel_id,
                "id": note.id,
                "created_at": _iso(note.created_at),
                **_person("author", None if retro.anonymous else note.author_id, who),
                "category": note.column,
                "description": note.text,
                "votes": note.votes,
                "retro": retro.id,
            }
            for note in record.notes
        ]
    return rows


def export_user_ids(export: KaizenExport) -> list[str]:
    """Every person the export names, once, to look their names up."""
    ids = [w.reporter_id for w in export.observations if w.reporter_id]
    ids += [t.author_id for t in export.themes]
    ids += [v.user_id for v in export.votes] + [a.owner_id for a in export.actions]
    ids += [r.retro.facilitator_id for r in export.retros]
    return list(dict.fromkeys(i for i in ids if i))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def build_export_csv(export: KaizenExport, names: Names | None = None) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for rows in export_rows(export, names).values():
        for row in rows:
            writer.writerow({key: _cell(value) for key, value in row.items()})
    return out.getvalue()


def build_export_json(export: KaizenExport, names: Names | None = None) -> str:
    """One list per kind; fields that do not apply to a kind are left out."""
    kinds = export_rows(export, names)
    body = {kind: [_json_row(row) for row in rows] for kind, rows in kinds.items()}
    return json.dumps(body, ensure_ascii=False, indent=2) + "\n"


def _json_row(row: Row) -> Row:
    """The list says the kind; a log still says whether it is a wait or a waste."""
    kept = {key: value for key, value in row.items() if key != "record"}
    if row["record"] in ("wait", "waste"):
        kept = {"kind": row["record"], **kept}
    return kept


def build_export(export: KaizenExport, fmt: str, names: Names | None = None) -> str:
    if fmt == "json":
        return build_export_json(export, names)
    return build_export_csv(export, names)
