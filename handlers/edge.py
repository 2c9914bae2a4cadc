"""What every feature handler shares at the Slack edge: reading who asks, and answering forms.

The unit of work and telling a user live in ``bot.usecases``; this module keeps what only the
Slack edge needs: modal field errors and checking a response URL carried in metadata.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from bot.deps import Deps
from bot.domain.errors import KaizenError


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
