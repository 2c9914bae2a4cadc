"""Follow-ups after the reply that fail once retries are spent: the user hears what did not
happen and how to get it."""

from __future__ import annotations

import json

import pytest

from tests.handlers.test_vsm import seed
from tests.support.harness import Harness


@pytest.mark.parametrize(
    "fail",
    [
        lambda fake: fake.server_error_next("upload_url", status=500, times=3),
        lambda fake: fake.server_error_next("files.getUploadURLExternal", status=500, times=3),
        lambda fake: fake.server_error_next("files.completeUploadExternal", status=500),
        lambda fake: fake.rate_limit_next("files.completeUploadExternal", retry_after=0, times=3),
    ],
    ids=["upload url 500", "get url 500", "complete 500", "complete 429"],
)
async def test_a_map_whose_upload_fails_tells_the_user_how_to_get_it(
    harness: Harness, fail: object
) -> None:
    await seed(harness, ["Build", "Test"])
    fail(harness.fake)  # type: ignore[operator]
    response = await harness.driver.command("/vsm", "show", user="U1", channel="C1")
    assert "Drawing" in response.json["text"]
    await harness.deps.drain()
    told = await harness.fake.wait_for("response_url", lambda c: "map image" in json.dumps(c.args))
    said = json.dumps(told.args)
    assert "Run `/vsm show` again" in said
    assert [f for f in harness.fake.files if f.completed] == []
