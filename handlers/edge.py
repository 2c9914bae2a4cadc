"""What every feature handler shares at the Slack edge: answering modal submissions.

The unit of work and telling a user live in ``bot.usecases``; this module keeps what only the
Slack edge needs: field errors by block id, the ack of a submission (``ack_form``), the
confirmation after it (``confirm``) and checking a response URL carried in metadata.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from urllib.parse import urlsplit

from slack_bolt.async_app import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Deps
from bot.domain.errors import KaizenError
from bot.usecases.notify import tell

T = TypeVar("T")


class FormErrors(Exception):
    """Inline modal errors, keyed by input block id; acked with ``response_action: errors``."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(", ".join(errors))
        self.errors = errors

    def as_ack(self) -> dict[str, Any]:
        return {"response_action": "errors", "errors": self.errors}


def field_errors(error: KaizenError, fields: dict[str | None, str]) -> FormErrors:
    """Map a domain error's ``field`` to the input block it belongs to."""
    block = fields.get(error.field) or fields.get(None) or next(iter(fields.values()))
    return FormErrors({block: error.message})


def errors_ack(error: KaizenError | FormErrors, fields: dict[str | None, str]) -> dict[str, Any]:
    """The ack that shows a modal's bad input inline, whichever way it was found."""
    found = error if isinstance(error, FormErrors) else field_errors(error, fields)
    return found.as_ack()


_SLACK_HOOK_HOSTS = {"hooks.slack.com", "hooks.slack-gov.com"}


def trusted_response_url(url: str | None, deps: Deps) -> str | None:
    """A response URL carried in modal metadata, only if it points at Slack (or its stand-in)."""
    if not url:
        return None
    parsed = urlsplit(url)
    allowed = _SLACK_HOOK_HOSTS | {urlsplit(deps.settings.slack_api_url).netloc}
    if parsed.scheme in ("https", "http") and parsed.netloc in allowed:
        return url
    return None


@dataclass(frozen=True, slots=True)
class Accepted(Generic[T]):
    """A modal submission that was acked as accepted, with what storing it gave."""

    value: T


async def ack_form(
    ack: AsyncAck, fields: dict[str | None, str], work: Awaitable[T]
) -> Accepted[T] | None:
    """Run a submission's reading and storing, then ack: field errors inline, else accepted.

    ``work`` is a coroutine not yet started, so everything it raises is caught here.
    """
    try:
        value = await work
    except (KaizenError, FormErrors) as error:
        await ack(**errors_ack(error, fields))
        return None
    await ack()
    return Accepted(value)


def confirm(
    client: AsyncWebClient,
    deps: Deps,
    *,
    user: str,
    channel: str | None,
    message: dict[str, Any],
    response_url: str | None,
    name: str,
) -> None:
    """Tell the person after the reply, through the response URL a modal carried if trusted."""
    deps.spawn(
        tell(
            client,
            user=user,
            channel=channel,
            message=message,
            response_url=trusted_response_url(response_url, deps),
        ),
        name=name,
    )
