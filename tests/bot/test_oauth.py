"""Multi-workspace OAuth: install, store the token, and use it for that workspace's requests."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from aiohttp import ClientSession
from pydantic import SecretStr

from bot.app import build_app
from bot.deps import Deps
from bot.server import EVENTS_PATH, bound_port, build_web_app, start_site
from bot.settings import Settings
from fake_slack import FakeSlack, SlackDriver
from storage.db import Database
from tests.support.clock import FrozenClock

SECRET = "oauth-signing-secret"


@dataclass
class OAuthApp:
    fake: FakeSlack
    base_url: str

    def driver(self, team: str) -> SlackDriver:
        return SlackDriver(
            self.base_url + EVENTS_PATH, signing_secret=SECRET, team_id=team, fake=self.fake
        )


@pytest.fixture
async def oauth_app(db: Database) -> AsyncIterator[OAuthApp]:
    async with FakeSlack() as fake:
        settings = Settings(
            slack_signing_secret=SecretStr(SECRET),
            slack_client_id="111.222",
            slack_client_secret=SecretStr("client-secret"),
            slack_api_url=fake.api_url,
            database_url=db.url,
            _env_file=None,
        )
        deps = Deps(settings=settings, db=db, clock=FrozenClock())
        runner = await start_site(build_web_app(build_app(deps), deps), host="127.0.0.1", port=0)
        try:
            yield OAuthApp(fake, f"http://127.0.0.1:{bound_port(runner)}")
        finally:
            await runner.cleanup()
            await deps.drain()


async def install(app: OAuthApp, http: ClientSession, code: str) -> tuple[int, str]:
    async with http.get(app.base_url + "/slack/install") as page:
        assert page.status == 200
        html = await page.text()
        # Bolt's state cookie is Secure, so a client on plain-HTTP loopback must send it itself.
        cookie = page.headers["Set-Cookie"].split(";", 1)[0]
    state = re.search(r"state=([\w-]+)", html)
    assert state is not None, html
    assert "client_id=111.222" in html
    url = f"{app.base_url}/slack/oauth_redirect?code={code}&state={state.group(1)}"
    async with http.get(url, headers={"Cookie": cookie}) as callback:
        return callback.status, await callback.text()


async def test_an_installed_workspace_is_served_with_its_own_token(oauth_app: OAuthApp) -> None:
    oauth_app.fake.add_oauth_grant(
        "code-1", team_id="TNEW", team_name="New Team", bot_token="xoxb-new-team"
    )
    async with ClientSession() as http:
        status, _ = await install(oauth_app, http, "code-1")
    assert status == 200
    response = await oauth_app.driver("TNEW").command("/waste", "", user="U1", channel="C1")
    assert response.status == 200
    opened = await oauth_app.fake.wait_for("views.open")
    assert opened.headers["Authorization"] == "Bearer xoxb-new-team"


async def test_a_workspace_that_never_installed_is_not_served(oauth_app: OAuthApp) -> None:
    response = await oauth_app.driver("TSTRANGER").command("/waste", "", user="U1", channel="C1")
    assert response.status == 200
    told = await oauth_app.fake.wait_for("response_url")
    assert "not installed in this workspace" in told.args["text"]
    assert oauth_app.fake.calls_to("views.open") == []


async def test_a_callback_with_a_forged_state_installs_nothing(oauth_app: OAuthApp) -> None:
    oauth_app.fake.add_oauth_grant(
        "code-2", team_id="TNEW", team_name="New Team", bot_token="xoxb-new-team"
    )
    async with ClientSession() as http:
        await http.get(oauth_app.base_url + "/slack/install")
        url = f"{oauth_app.base_url}/slack/oauth_redirect?code=code-2&state=forged"
        async with http.get(url) as callback:
            assert callback.status >= 400
    response = await oauth_app.driver("TNEW").command("/waste", "", user="U1", channel="C1")
    assert oauth_app.fake.calls_to("views.open") == []
    assert response.status in (200, 401)


async def test_workspaces_served_at_once_each_call_slack_with_their_own_token(
    oauth_app: OAuthApp,
) -> None:
    """Listeners of one workspace share a client; never one of another workspace's."""
    tokens = {"TONE": "xoxb-team-one", "TTWO": "xoxb-team-two"}
    async with ClientSession() as http:
        for n, (team, token) in enumerate(tokens.items()):
            oauth_app.fake.add_oauth_grant(
                f"code-{n}", team_id=team, team_name=team, bot_token=token
            )
            status, _ = await install(oauth_app, http, f"code-{n}")
            assert status == 200
    channel = {"TONE": "C1", "TTWO": "C2"}
    teams = ["TONE", "TTWO"] * 6
    responses = await asyncio.gather(
        *(oauth_app.driver(t).command("/waste", "", user="U1", channel=channel[t]) for t in teams)
    )
    assert all(r.status == 200 for r in responses)
    deadline = asyncio.get_running_loop().time() + 5
    while len(oauth_app.fake.calls_to("views.open")) < len(teams):
        assert asyncio.get_running_loop().time() < deadline, "not every modal was opened"
        await asyncio.sleep(0.01)
    by_channel = {"C1": "xoxb-team-one", "C2": "xoxb-team-two"}
    seen = []
    for call in oauth_app.fake.calls_to("views.open"):
        asked_in = json.loads(call.args["view"]["private_metadata"])["c"]
        assert call.headers["Authorization"] == f"Bearer {by_channel[asked_in]}"
        seen.append(asked_in)
    assert sorted(seen) == ["C1"] * 6 + ["C2"] * 6
