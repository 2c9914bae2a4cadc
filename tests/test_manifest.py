"""manifest.yml is a valid Slack manifest and lists exactly what the code handles."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema
import pytest
import yaml

from bot import ids

if TYPE_CHECKING:
    from tests.support.harness import Harness

ROOT = Path(__file__).resolve().parents[1]
# Slack's published manifest schema (see tests/data/manifest.schema.LICENSE).
SCHEMA = ROOT / "tests" / "data" / "manifest.schema.1.0.0.json"


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "manifest.yml").read_text())


def test_manifest_is_valid_against_slacks_schema(manifest: dict[str, Any]) -> None:
    schema = json.loads(SCHEMA.read_text())
    jsonschema.validate(manifest, schema)


def test_manifest_commands_are_the_ones_the_code_defines(manifest: dict[str, Any]) -> None:
    commands = {c["command"] for c in manifest["features"]["slash_commands"]}
    assert commands == set(ids.COMMANDS)


def test_manifest_shortcuts_and_events_are_the_ones_the_code_defines(
    manifest: dict[str, Any],
) -> None:
    shortcuts = {s["callback_id"] for s in manifest["features"]["shortcuts"]}
    events = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    assert shortcuts == set(ids.SHORTCUTS)
    assert events == set(ids.EVENTS)


def test_manifest_scopes_are_the_ones_oauth_asks_for(manifest: dict[str, Any]) -> None:
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == set(ids.BOT_SCOPES)


def test_manifest_urls_all_point_at_the_one_events_path(manifest: dict[str, Any]) -> None:
    urls = [c["url"] for c in manifest["features"]["slash_commands"]]
    urls.append(manifest["settings"]["event_subscriptions"]["request_url"])
    urls.append(manifest["settings"]["interactivity"]["request_url"])
    assert {u.rsplit("/", 2)[-2:] == ["slack", "events"] for u in urls} == {True}


async def test_every_manifest_command_is_answered_by_the_app(
    manifest: dict[str, Any], harness: Harness
) -> None:
    for entry in manifest["features"]["slash_commands"]:
        response = await harness.driver.command(entry["command"], "help", user="U1", channel="C1")
        assert response.status == 200, entry["command"]
        assert entry["command"] in response.json["text"], entry["command"]


def _registrations() -> dict[str, set[str]]:
    """What handlers/ registers with app.command/event/shortcut, resolved through bot.ids."""
    found: dict[str, set[str]] = {"command": set(), "event": set(), "shortcut": set()}
    for path in (ROOT / "handlers").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            kind = node.func.attr
            if kind not in found or not node.args:
                continue
            arg = node.args[0]
            if isinstance(arg, ast.Attribute) and isinstance(arg.value, ast.Name):
                assert arg.value.id == "ids", f"{path.name}: register with a bot.ids name"
                found[kind].add(getattr(ids, arg.attr))
    return found


def test_every_registered_listener_is_in_the_manifest(manifest: dict[str, Any]) -> None:
    registered = _registrations()
    assert registered["command"] <= {c["command"] for c in manifest["features"]["slash_commands"]}
    assert registered["event"] == set(manifest["settings"]["event_subscriptions"]["bot_events"])
    assert registered["shortcut"] == {s["callback_id"] for s in manifest["features"]["shortcuts"]}


def test_kaizen_usage_hint_lists_every_subcommand_there_is(manifest: dict[str, Any]) -> None:
    from bot.domain.themes import ThemeAction

    [kaizen] = [c for c in manifest["features"]["slash_commands"] if c["command"] == "/kaizen"]
    words = set(kaizen["usage_hint"].replace("|", " ").split())
    subcommands = {"list", "add", "show", "action", "settings", "subscribe", "unsubscribe"}
    subcommands |= {"export", "help"} | {a.value for a in ThemeAction}
    assert subcommands <= words, subcommands - words
