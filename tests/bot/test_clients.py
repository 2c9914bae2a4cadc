"""The clients listeners are handed: shared within a workspace, never across workspaces."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from bot.usecases.clients import ListenerClients, SharedSession
from bot.usecases.notify import ChannelMembership


def bolts(token: str, team: str) -> AsyncWebClient:
    """What Bolt hands the middleware: a client made for this request, authorised."""
    return AsyncWebClient(token=token, base_url="http://127.0.0.1:1/api/", team_id=team)


async def test_requests_of_one_workspace_share_a_client_and_others_get_their_own() -> None:
    session = SharedSession()
    clients = ListenerClients(session, ChannelMembership())
    one = clients.like(bolts("xoxb-one", "T1"))
    assert clients.like(bolts("xoxb-one", "T1")) is one
    other = clients.like(bolts("xoxb-two", "T2"))
    assert other is not one
    assert (other.token, other.default_params["team_id"]) == ("xoxb-two", "T2")
    assert (one.token, one.default_params["team_id"]) == ("xoxb-one", "T1")
    reinstalled = clients.like(bolts("xoxb-one-again", "T1"))
    assert reinstalled.token == "xoxb-one-again"
    assert one.session is session.opened
    await session.close()


async def test_the_least_used_are_dropped_and_a_new_http_session_starts_afresh() -> None:
    session = SharedSession()
    clients = ListenerClients(session, ChannelMembership(), most=2)
    first = clients.like(bolts("xoxb-1", "T1"))
    second = clients.like(bolts("xoxb-2", "T2"))
    assert clients.like(bolts("xoxb-1", "T1")) is first  # now the most recently used
    clients.like(bolts("xoxb-3", "T3"))
    assert clients.like(bolts("xoxb-1", "T1")) is first
    assert clients.like(bolts("xoxb-2", "T2")) is not second
    await session.close()
    renewed = clients.like(bolts("xoxb-1", "T1"))
    assert renewed is not first
    assert renewed.session is session.opened and not renewed.session.closed
    await session.close()
